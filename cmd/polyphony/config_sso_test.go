package main

import (
	"slices"
	"strings"
	"testing"
)

func TestConfigSSO(t *testing.T) {
	c, err := configFrom(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.SSOIssuer != "" || c.SSOPasswordsOff || c.SSODomains != nil {
		t.Errorf("by default there is no organisation sign-in: %+v", c)
	}
	c, err = configFrom(t, []string{"--sso-issuer", "https://login.microsoftonline.com/tenant/v2.0", "--sso-client-id", "app",
		"--sso-domains", " NHS.net, @trust.nhs.uk ,", "--sso-passwords-off", "true"},
		map[string]string{"POLYPHONY_SSO_CLIENT_SECRET": "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if c.SSOIssuer != "https://login.microsoftonline.com/tenant/v2.0" || c.SSOClientID != "app" || c.SSOClientSecret != "s3cret" ||
		!slices.Equal(c.SSODomains, []string{"nhs.net", "trust.nhs.uk"}) || !c.SSOPasswordsOff {
		t.Errorf("config = issuer %q, client %q, secret %q, domains %q, passwords off %v", c.SSOIssuer, c.SSOClientID, c.SSOClientSecret, c.SSODomains, c.SSOPasswordsOff)
	}
	if _, err := configFrom(t, []string{"--sso-issuer", "http://127.0.0.1:5556", "--sso-client-id", "a", "--sso-client-secret", "b"}, nil); err != nil {
		t.Errorf("an http issuer on loopback (a test provider): %v", err)
	}
}

func TestConfigSSOBadValues(t *testing.T) {
	full := []string{"--sso-issuer", "https://idp.example", "--sso-client-id", "a", "--sso-client-secret", "b"}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--sso-issuer", "http://idp.example", "--sso-client-id", "a", "--sso-client-secret", "b"}, []string{"--sso-issuer", "POLYPHONY_SSO_ISSUER", "https"}},
		{[]string{"--sso-issuer", "idp.example", "--sso-client-id", "a", "--sso-client-secret", "b"}, []string{"--sso-issuer"}},
		{[]string{"--sso-issuer", "https://idp.example?x=1", "--sso-client-id", "a", "--sso-client-secret", "b"}, []string{"--sso-issuer"}},
		{[]string{"--sso-issuer", "https://idp.example", "--sso-client-secret", "b"}, []string{"--sso-client-id", "POLYPHONY_SSO_CLIENT_ID"}},
		{[]string{"--sso-issuer", "https://idp.example", "--sso-client-id", "a"}, []string{"--sso-client-secret", "POLYPHONY_SSO_CLIENT_SECRET"}},
		{append(slices.Clone(full), "--sso-passwords-off", "true"), []string{"--sso-passwords-off", "--sso-domains"}},
		{append(slices.Clone(full), "--sso-passwords-off", "perhaps"), []string{"--sso-passwords-off", `"perhaps"`}},
		{append(slices.Clone(full), "--sso-domains", "nhs.net,not a domain"), []string{"--sso-domains", `"not a domain"`}},
		{append(slices.Clone(full), "--sso-domains", "someone@nhs.net"), []string{"--sso-domains"}},
		{[]string{"--sso-client-id", "a"}, []string{"--sso-client-id", "--sso-issuer"}},
		{[]string{"--sso-passwords-off", "true"}, []string{"--sso-passwords-off", "--sso-issuer"}},
	} {
		_, err := configFrom(t, tc.args, nil)
		if err == nil {
			t.Errorf("%v: no error", tc.args)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: %q does not name %s", tc.args, err, w)
			}
		}
	}
}
