package issuer

import (
	"os"
	"strconv"
	"testing"
	"testing/fstest"
	"time"
)

func TestHelperETmpHang(t *testing.T) {
	raw, _ := os.ReadFile("/tmp/helperE-suspect")
	s := string(raw)
	s = s[len("go test fuzz v1\n[]byte(") : len(s)-2]
	data, err := strconv.Unquote(s)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	done := make(chan struct{})
	go func() {
		_, err := LoadTemplates(fstest.MapFS{"t/credential.yaml": {Data: []byte(data)}}, tplIssuer)
		t.Log(err)
		close(done)
	}()
	select {
	case <-done:
		t.Log(time.Since(start))
	case <-time.After(10 * time.Second):
		panic("hang")
	}
}
