package campaign

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the region of the numbers written without a country code
// when ImportOptions names none.
const DefaultRegion = "TR"

// NormalizePhone returns the phone number s in E.164 ("+905321234567").
// A number without a country code ("0532 123 45 67", "532 123 45 67") is
// read as one of region (ISO 3166-1, "TR", in any case); "+90 …", "0090 …" and
// "90532…" (the country code without +, when that is a valid number of the
// region) name it themselves. Spaces, dashes, dots and brackets are
// ignored. A number that is not valid where it belongs, or has an
// extension, is an error saying so; numbers of another country than region
// need their + and country code.
func NormalizePhone(s, region string) (string, error) {
	region, err := checkRegion(region)
	if err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("the phone number is empty")
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", fmt.Errorf("phone %q: not a phone number", s)
	}
	if n.GetExtension() != "" {
		return "", fmt.Errorf("phone %q: has an extension; WhatsApp reaches whole numbers only", s)
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", fmt.Errorf("phone %q: not a valid number of region %s (write other countries' numbers with + and the country code)", s, region)
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// checkRegion returns region in upper case, or an error when phonenumbers
// does not know it.
func checkRegion(region string) (string, error) {
	r := strings.ToUpper(strings.TrimSpace(region))
	if phonenumbers.GetCountryCodeForRegion(r) == 0 {
		return "", fmt.Errorf("region %q: not a region code such as TR or DE", region)
	}
	return r, nil
}
