package tls

import (
	"crypto/sha1"
	"crypto/x509"
	"sync"
)

// Servers present the same certificates over and over (a popular site,
// the IM service's own), and parsing one costs far more than hashing it:
// x509.ParseCertificate plus the distinguished names were about a tenth
// of the engine on the benchmark corpus. So the fields each handshake
// needs are kept per certificate, keyed by its SHA-1 (already computed for
// tls.fingerprint), in a bounded cache shared by the workers (one lookup
// per server certificate). Zeek's X.509 analyzer caches parsed
// certificates the same way.

// certInfo is what a handshake takes from its server certificate. It is
// never modified once cached.
type certInfo struct {
	subject, issuer, serial string
	notBefore, notAfter     string
	fingerprint             string
	names                   []string // CN and up to maxSANs DNS SANs, for the host name lookup
	sans                    []string // the DNS SANs written in subjectaltname
}

// maxCachedCerts bounds the cache; when full it is emptied and refilled.
const maxCachedCerts = 4096

var certCache struct {
	sync.Mutex
	m map[[sha1.Size]byte]*certInfo
}

// parseCert returns the fields of the DER certificate der, from the cache
// or by parsing it.
func parseCert(der []byte) (*certInfo, error) {
	sum := sha1.Sum(der)
	certCache.Lock()
	ci := certCache.m[sum]
	certCache.Unlock()
	if ci != nil {
		return ci, nil
	}
	x, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ci = &certInfo{
		subject:     dn(x.RawSubject),
		issuer:      dn(x.RawIssuer),
		serial:      hexColon(x.SerialNumber.Bytes(), true),
		notBefore:   x.NotBefore.UTC().Format("2006-01-02T15:04:05"),
		notAfter:    x.NotAfter.UTC().Format("2006-01-02T15:04:05"),
		fingerprint: hexColon(sum[:], false), // Suricata's tls.fingerprint
	}
	if x.Subject.CommonName != "" {
		ci.names = append(ci.names, x.Subject.CommonName)
	}
	for _, d := range x.DNSNames {
		if len(ci.sans) == maxSANs {
			break
		}
		ci.sans = append(ci.sans, d)
		ci.names = append(ci.names, d)
	}
	certCache.Lock()
	if len(certCache.m) >= maxCachedCerts || certCache.m == nil {
		certCache.m = make(map[[sha1.Size]byte]*certInfo)
	}
	certCache.m[sum] = ci
	certCache.Unlock()
	return ci, nil
}
