package config

import (
	"net/url"
	"reflect"
)

// Masked returns a copy of the config that is safe to print: every field
// tagged secret shows only whether it is set, and a database URL keeps its
// host and database but not its password.
func (c Config) Masked() Config {
	maskValue(reflect.ValueOf(&c).Elem())
	return c
}

func maskValue(v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f, sf := v.Field(i), v.Type().Field(i)
		switch {
		case f.Kind() == reflect.Struct:
			maskValue(f)
		case f.Kind() == reflect.String && f.String() != "":
			switch sf.Tag.Get("secret") {
			case "true":
				f.SetString("****")
			case "url":
				f.SetString(MaskURL(f.String()))
			}
		}
	}
}

// MaskURL hides the password of a URL, for logs and printed config.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "****"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "****")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "****")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
