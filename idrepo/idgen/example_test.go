package idgen_test

import (
	"errors"
	"fmt"

	"github.com/sanad-id/sanad/idrepo/idgen"
)

func ExampleGenerator() {
	g, err := idgen.New(idgen.DefaultUINRules(), nil) // crypto/rand
	if err != nil {
		panic(err)
	}
	uin, err := g.Next()
	if err != nil {
		panic(err)
	}
	fmt.Println(len(uin), g.Rules().Check(uin))
	// Output: 10 <nil>
}

func ExampleRules_Check() {
	rules := idgen.DefaultUINRules()
	for _, id := range []string{"2586517943", "2586517944", "258651794", "8734579419"} {
		err := rules.Check(id)
		var re *idgen.RuleError
		switch {
		case err == nil:
			fmt.Println(id, "ok")
		case errors.As(err, &re):
			fmt.Println(id, re.Rule)
		}
	}
	// Output:
	// 2586517943 ok
	// 2586517944 verhoeff
	// 258651794 length
	// 8734579419 sequence
}

func ExampleVerhoeffDigit() {
	payload := "236"
	fmt.Println(payload + string(idgen.VerhoeffDigit(payload)))
	fmt.Println(idgen.VerhoeffValid("2363"), idgen.VerhoeffValid("2336"))
	// Output:
	// 2363
	// true false
}
