package dockertest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"testing"
)

// TestGenerateCertsChain checks that the server certificate verifies for 127.0.0.1 and the client one for
// client auth against their own CA, and neither against another CA.
func TestGenerateCertsChain(t *testing.T) {
	certs, other := GenerateCerts(t), GenerateCerts(t)
	for _, tc := range []struct {
		name, cert, key string
		usage           x509.ExtKeyUsage
	}{
		{"server", certs.ServerCert, certs.ServerKey, x509.ExtKeyUsageServerAuth},
		{"client", certs.ClientCert, certs.ClientKey, x509.ExtKeyUsageClientAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tls.LoadX509KeyPair(tc.cert, tc.key); err != nil {
				t.Fatalf("certificate and key do not match: %v", err)
			}
			cert := readCert(t, tc.cert)
			opts := x509.VerifyOptions{Roots: pool(t, certs.CAFile), KeyUsages: []x509.ExtKeyUsage{tc.usage}}
			if tc.usage == x509.ExtKeyUsageServerAuth {
				opts.DNSName = "127.0.0.1"
			}
			if _, err := cert.Verify(opts); err != nil {
				t.Fatalf("does not verify against its CA: %v", err)
			}
			opts.Roots = pool(t, other.CAFile)
			if _, err := cert.Verify(opts); err == nil || !strings.Contains(err.Error(), "unknown authority") {
				t.Fatalf("verified against another CA: %v", err)
			}
		})
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s holds no PEM block", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func pool(t *testing.T, caFile string) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	p.AddCert(readCert(t, caFile))
	return p
}
