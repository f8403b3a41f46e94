package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestEnvSetsEveryKind sets fields of every kind setField handles from the
// environment, through Load; the Argon2 settings are uint32.
func TestEnvSetsEveryKind(t *testing.T) {
	cfg, err := Load("", []string{
		"SANAD_IDREPO_AUTHN_ARGON2_MEMORY_KIB=65536",
		"SANAD_IDREPO_AUTHN_ARGON2_TIME=3",
		"SANAD_IDREPO_AUTHN_MAX_SENDS=7",
		"SANAD_HTTP_READ_TIMEOUT=11s",
		"SANAD_COMPONENTS=oidc, issuer",
	})
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"argon2_memory_kib (uint32)", cfg.IDRepo.Authn.Argon2MemoryKiB, uint32(65536)},
		{"argon2_time (uint32)", cfg.IDRepo.Authn.Argon2Time, uint32(3)},
		{"max_sends (int)", cfg.IDRepo.Authn.MaxSends, 7},
		{"read_timeout (duration)", cfg.HTTP.ReadTimeout, 11 * time.Second},
		{"components (list)", cfg.Components, []string{"oidc", "issuer"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestSetFieldIntegers checks every integer kind: values in range are set,
// values out of the field's range, signs an unsigned field can't hold and
// non-numbers are errors that leave the field alone.
func TestSetFieldIntegers(t *testing.T) {
	var s struct {
		I   int
		I8  int8
		I16 int16
		I32 int32
		I64 int64
		U   uint
		U8  uint8
		U16 uint16
		U32 uint32
		U64 uint64
	}
	v := reflect.ValueOf(&s).Elem()
	tests := []struct {
		field, in string
		want      any // nil: an error
	}{
		{"I", "-42", int(-42)},
		{"I8", "127", int8(127)},
		{"I8", "128", nil},
		{"I16", "-32768", int16(-32768)},
		{"I32", "2147483648", nil},
		{"I64", "-9223372036854775808", int64(-9223372036854775808)},
		{"U", "42", uint(42)},
		{"U8", "255", uint8(255)},
		{"U8", "256", nil},
		{"U16", "65535", uint16(65535)},
		{"U32", "4294967295", uint32(4294967295)},
		{"U32", "4294967296", nil},
		{"U32", "-1", nil},
		{"U64", "18446744073709551615", uint64(18446744073709551615)},
		{"U64", "1e3", nil},
		{"U32", "", nil},
		{"I", "ten", nil},
	}
	for _, tt := range tests {
		t.Run(tt.field+"="+tt.in, func(t *testing.T) {
			f := v.FieldByName(tt.field)
			f.SetZero()
			err := setField(f, tt.in)
			switch {
			case tt.want == nil && err == nil:
				t.Errorf("setField(%s, %q) = nil, want an error (field set to %v)", tt.field, tt.in, f.Interface())
			case tt.want == nil && !f.IsZero():
				t.Errorf("setField(%s, %q) failed but set the field to %v", tt.field, tt.in, f.Interface())
			case tt.want != nil && err != nil:
				t.Errorf("setField(%s, %q) = %v, want nil", tt.field, tt.in, err)
			case tt.want != nil && f.Interface() != tt.want:
				t.Errorf("setField(%s, %q) set %v, want %v", tt.field, tt.in, f.Interface(), tt.want)
			}
		})
	}
}

// TestEnvCanSetEveryField fails for a configuration field of a type the
// environment can't set (as uint32 once was). Maps (webhook headers, VID
// policies) and lists of objects (issuer display) are set in YAML only.
func TestEnvCanSetEveryField(t *testing.T) {
	walkFields(reflect.ValueOf(&Config{}).Elem(), nil, func(name string, f reflect.Value) {
		if f.Kind() == reflect.Map || (f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct) {
			return
		}
		if err := setField(reflect.New(f.Type()).Elem(), sampleFor(f.Type())); err != nil {
			t.Errorf("%s (%s): %v", name, f.Type(), err)
		}
	})
}

// sampleFor is a value setField should accept for a field of type t.
func sampleFor(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(time.Duration(0)):
		return "1s"
	case t.Kind() == reflect.Bool:
		return "true"
	case t.Kind() == reflect.String, t.Kind() == reflect.Slice:
		return strings.Repeat("x", 3)
	}
	return "1"
}
