package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts every environment variable Sanad reads.
const EnvPrefix = "SANAD_"

// EnvNames lists every environment variable that overrides a field, for
// documentation and for `sanad serve --help`.
func EnvNames() []string {
	var names []string
	walkFields(reflect.ValueOf(&Config{}).Elem(), nil, func(name string, _ reflect.Value) {
		names = append(names, name)
	})
	return names
}

// applyEnv overrides fields from SANAD_* variables. The name of a field is
// SANAD_ followed by its YAML path in upper case joined by underscores
// (storage.postgres_url → SANAD_STORAGE_POSTGRES_URL); a few well-known
// secrets also have a short name (SANAD_MASTER_KEY, SANAD_ADMIN_TOKEN).
// Lists are comma-separated. A variable starting with SANAD_ that names no
// field is an error, like an unknown YAML field. Variables that are not
// configuration (test settings, SANAD_TEST_*) are ignored.
func applyEnv(cfg *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, EnvPrefix) && !strings.HasPrefix(k, EnvPrefix+"TEST_") {
			env[k] = v
		}
	}
	var errs []error
	walkFields(reflect.ValueOf(cfg).Elem(), nil, func(name string, f reflect.Value) {
		v, ok := env[name]
		if !ok {
			return
		}
		delete(env, name)
		if err := setField(f, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	})
	for k := range env {
		errs = append(errs, fmt.Errorf("%s: unknown configuration variable", k))
	}
	return errors.Join(errs...)
}

// walkFields calls fn for each leaf field with every environment name it answers to.
func walkFields(v reflect.Value, path []string, fn func(name string, f reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		p := append(path[:len(path):len(path)], tag)
		f := v.Field(i)
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeOf(time.Duration(0)) {
			walkFields(f, p, fn)
			continue
		}
		fn(EnvPrefix+strings.ToUpper(strings.Join(p, "_")), f)
		if alias := sf.Tag.Get("env"); alias != "" {
			fn(alias, f)
		}
	}
}

func setField(f reflect.Value, v string) error {
	switch {
	case f.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
	case f.Kind() == reflect.String:
		f.SetString(v)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case f.CanInt():
		// Parsed at the field's size, so that a value it can't hold is an
		// error rather than wrapped around.
		n, err := strconv.ParseInt(v, 10, f.Type().Bits())
		if err != nil {
			return err
		}
		f.SetInt(n)
	case f.CanUint():
		// The Argon2 settings are uint32 (argon2.IDKey's parameters).
		n, err := strconv.ParseUint(v, 10, f.Type().Bits())
		if err != nil {
			return err
		}
		f.SetUint(n)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		var items []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		f.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported field type %s", f.Type())
	}
	return nil
}
