package tls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"reflect"
	"sync"
	"testing"
	"time"
)

// selfSigned makes a DER certificate with the given serial, CN and SANs.
func selfSigned(t testing.TB, serial int64, cn string, sans ...string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Example <Org>"}},
		NotBefore:    time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		NotAfter:     time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		DNSNames:     sans,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestCertCache: a cached certificate gives exactly the fields of a fresh
// parse, the second lookup is served from the cache, and the cache stays
// within its bound.
func TestCertCache(t *testing.T) {
	der := selfSigned(t, 0x1234, "im.example.com", "a.example.com", "b.example.com")
	first, err := parseCert(der)
	if err != nil {
		t.Fatal(err)
	}
	want := certInfo{
		subject: "O=Example <Org>, CN=im.example.com", issuer: "O=Example <Org>, CN=im.example.com",
		serial: "12:34", notBefore: "2024-01-02T03:04:05", notAfter: "2025-01-02T03:04:05",
		fingerprint: first.fingerprint,
		names:       []string{"im.example.com", "a.example.com", "b.example.com"},
		sans:        []string{"a.example.com", "b.example.com"},
	}
	if !reflect.DeepEqual(*first, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", *first, want)
	}
	if len(first.fingerprint) != 59 {
		t.Errorf("fingerprint %q is not a colon-separated SHA-1", first.fingerprint)
	}
	again, err := parseCert(append([]byte(nil), der...))
	if err != nil || again != first {
		t.Errorf("second lookup was not served from the cache (%p, %p, %v)", again, first, err)
	}
	if _, err := parseCert(der[:len(der)-1]); err == nil {
		t.Error("a truncated certificate parsed")
	}
	other := selfSigned(t, 7, "other.example.net")
	for i := 0; i < maxCachedCerts+10; i++ {
		// Distinct keys without generating thousands of certificates: a
		// changed byte in the signature still hashes differently, and the
		// cache is keyed by the hash before parsing.
		d := append([]byte(nil), other...)
		d[len(d)-1] ^= byte(i)
		d[len(d)-2] ^= byte(i >> 8)
		parseCert(d)
		certCache.Lock()
		n := len(certCache.m)
		certCache.Unlock()
		if n > maxCachedCerts {
			t.Fatalf("cache holds %d certificates, bound %d", n, maxCachedCerts)
		}
	}
}

// TestCertCacheConcurrent runs lookups of two certificates from several
// goroutines, as the workers do; go test -race checks the locking.
func TestCertCacheConcurrent(t *testing.T) {
	ders := [][]byte{selfSigned(t, 1, "x.example"), selfSigned(t, 2, "y.example")}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				ci, err := parseCert(ders[i%2])
				if err != nil || ci.names[0] != []string{"x.example", "y.example"}[i%2] {
					t.Errorf("lookup %d: %+v %v", i, ci, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
