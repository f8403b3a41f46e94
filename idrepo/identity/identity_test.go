package identity

import "testing"

func TestFullDate(t *testing.T) {
	for in, want := range map[string]string{
		"1990/05/14": "1990-05-14",
		"1990-05-14": "1990-05-14",
		"1990":       "1990",
		"1990/05-14": "",
		"1990/02/30": "",
		"90/05/14":   "",
		"199a":       "",
		"":           "",
		"1990/5/14":  "",
	} {
		if got := FullDate(in); got != want {
			t.Errorf("FullDate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPhotoDataURI(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   any
		want string
	}{
		{"jpeg", map[string]any{"format": "jpeg", "data": "/9j/4AAQ"}, "data:image/jpeg;base64,/9j/4AAQ"},
		{"upper-case format", map[string]any{"format": "PNG", "data": "iVBORw=="}, "data:image/png;base64,iVBORw=="},
		{"unknown format", map[string]any{"format": "gif", "data": "R0lGOD=="}, ""},
		{"not base64", map[string]any{"format": "png", "data": "iVB\nORw="}, ""},
		{"unpadded", map[string]any{"format": "png", "data": "iVBOR"}, ""},
		{"empty", map[string]any{"format": "png", "data": ""}, ""},
		{"not a photo", "data:image/png;base64,AAAA", ""},
		{"nil", nil, ""},
	} {
		if got := PhotoDataURI(tt.in); got != tt.want {
			t.Errorf("PhotoDataURI(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
