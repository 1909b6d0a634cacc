package risk_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
	_ "github.com/peerwatch/peerwatch/proto/all"
	"github.com/peerwatch/peerwatch/risk"
)

// e2eCases run repository captures of the protocol folders through the
// whole pipeline with the risk stage on. The golden file keeps the alert
// and fileinfo records (the protocol records are the folders' goldens);
// want lists findings that must be there whatever -update accepts:
// "<signature_id> <risk> <service>".
var e2eCases = []struct {
	name    string
	capture string
	want    []string
}{
	{"oft-executable", "../proto/oft/testdata/rendezvous-oft.pcap",
		[]string{"malware_carrier aim", "file_transfer aim", "ip_disclosure aim"}},
	{"oscar-xor-login", "../proto/oscar/testdata/synthetic-xor-login.pcap",
		[]string{"credential_exposure icq", "unencrypted icq"}},
	{"socks-msn", "../proto/socks/testdata/socks5-msn.pcap",
		[]string{"evasion msn", "credential_exposure msn"}},
	{"gnutella", "../proto/gnutella/testdata/synthetic.pcap",
		[]string{"p2p_use gnutella", "ip_disclosure gnutella", "malware_carrier gnutella"}},
	{"kazaa", "../proto/fasttrack/testdata/fasttrack.pcap",
		[]string{"spyware kazaa", "copyright_bandwidth kazaa", "ip_disclosure kazaa"}},
	{"ymsg-http", "../proto/ymsg/testdata/http-login.pcap",
		[]string{"evasion yahoo", "credential_exposure yahoo"}},
	{"aim-game-exploit", "../proto/oscar/testdata/synthetic-game-exploit.pcap",
		[]string{"exploit aim"}},
	{"msn-lure", "testdata/e2e/msn-lure.pcap",
		[]string{"social_engineering msn"}},
}

func TestEndToEnd(t *testing.T) {
	for _, tc := range e2eCases {
		t.Run(tc.name, func(t *testing.T) {
			eng, err := risk.New(risk.Config{})
			if err != nil {
				t.Fatal(err)
			}
			recs, _, err := pcaptest.Analyze([]string{tc.capture}, pcaptest.Options{Risk: eng})
			if err != nil {
				t.Fatal(err)
			}
			pcaptest.Validate(t, pcaptest.Lines(recs))
			var keep []event.Record
			seen := map[string]bool{}
			for _, r := range recs {
				switch r.Type {
				case event.TypeAlert:
					seen[r.Alert.Metadata["risk"][0]+" "+r.PW.Service] = true
					keep = append(keep, r)
				case event.TypeFileinfo:
					keep = append(keep, r)
				}
			}
			for _, w := range tc.want {
				if !seen[w] {
					t.Errorf("no %s finding (seen: %v)", w, slices.Sorted(mapKeys(seen)))
				}
			}
			golden.Check(t, filepath.Join("testdata", "e2e", tc.name+".golden.jsonl"), pcaptest.Lines(keep))
			if len(eng.Matrix()) == 0 {
				t.Error("empty matrix")
			}
		})
	}
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestLurePrivacy: the lure's text raises social_engineering and a card
// finding, but neither the message nor the card number reaches the output
// without --capture-content; the alert shows the masked card only.
func TestLurePrivacy(t *testing.T) {
	eng, err := risk.New(risk.Config{})
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := pcaptest.Analyze([]string{"testdata/e2e/msn-lure.pcap"}, pcaptest.Options{Risk: eng})
	if err != nil {
		t.Fatal(err)
	}
	out := string(pcaptest.Lines(recs))
	for _, secret := range []string{"verify your password", "4111 1111 1111 1111", "4111111111111111"} {
		if strings.Contains(out, secret) {
			t.Errorf("output holds %q", secret)
		}
	}
	if !strings.Contains(out, "4111********1111") {
		t.Errorf("no masked card in the findings")
	}
}

// TestLureCapture keeps the synthetic lure capture reproducible: an MSN
// switchboard session (MSNP, specs/msnp.md) where "MSN Support" asks the
// user to verify the password and a card number.
func TestLureCapture(t *testing.T) {
	w := pcaptest.NewWriter()
	t0 := time.Date(2002, 6, 1, 9, 0, 0, 0, time.UTC)
	c := w.TCP(t0, netip.MustParseAddrPort("192.168.1.30:1050"), netip.MustParseAddrPort("64.4.12.200:1863"))
	c.Handshake()
	c.Send(0, []byte("ANS 1 victim@hotmail.com 849102291.520491113 11752013\r\n"))
	c.Send(1, []byte("IRO 1 1 1 support-team@hotmail.com MSN%20Support\r\nANS 1 OK\r\n"))
	body := "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" +
		"Hello, this is the MSN Support team. We detected a problem with your account. " +
		"Please verify your password and your credit card number to keep your account active."
	c.Send(1, []byte(fmt.Sprintf("MSG support-team@hotmail.com MSN%%20Support %d\r\n%s", len(body), body)))
	reply := "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nok it is 4111 1111 1111 1111"
	c.Send(0, []byte(fmt.Sprintf("MSG 2 N %d\r\n%s", len(reply), reply)))
	c.Send(0, []byte("OUT\r\n"))
	c.Close()
	golden.Check(t, filepath.Join("testdata", "e2e", "msn-lure.pcap"), w.Bytes())
	if b, err := os.ReadFile(filepath.Join("testdata", "e2e", "msn-lure.pcap")); err == nil && !bytes.Equal(b, w.Bytes()) {
		t.Error("capture differs from the builder")
	}
}

// TestVolumeEndToEnd: with a small threshold, a host's KaZaA download
// volume in one window raises copyright_bandwidth; the host-level alert
// (no flow) is valid EVE.
func TestVolumeEndToEnd(t *testing.T) {
	eng, err := risk.New(risk.Config{VolumeThreshold: 4000})
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := pcaptest.Analyze([]string{"../proto/fasttrack/testdata/fasttrack.pcap"}, pcaptest.Options{Risk: eng})
	if err != nil {
		t.Fatal(err)
	}
	pcaptest.Validate(t, pcaptest.Lines(recs))
	var vol []event.Record
	for _, r := range recs {
		if r.Type == event.TypeAlert && r.FlowID == 0 {
			vol = append(vol, r)
		}
	}
	if len(vol) == 0 {
		t.Fatal("no volume alert")
	}
	for _, r := range vol {
		if r.Alert.Metadata["risk"][0] != string(event.RiskCopyrightBandwidth) || !r.Src.Addr().IsPrivate() {
			t.Errorf("volume alert: %s", pcaptest.Lines([]event.Record{r}))
		}
	}
}

// eicar is the standard anti-virus test file (eicar.org).
const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// TestIOCEndToEnd: files moved over KaZaA HTTP are matched against the
// built-in known-bad list — the paper's worm by its name (Hello.exe), the
// EICAR test file by its hashes under an innocent name — and against an
// operator's list given as a file.
func TestIOCEndToEnd(t *testing.T) {
	w := pcaptest.NewWriter()
	t0 := time.Date(2002, 6, 1, 9, 0, 0, 0, time.UTC)
	download := func(port uint16, name string, body []byte) {
		c := w.TCP(t0, netip.AddrPortFrom(netip.MustParseAddr("192.168.1.50"), port), netip.MustParseAddrPort("198.51.100.80:1214"))
		c.Handshake()
		c.Send(0, []byte("GET /3/"+name+" HTTP/1.1\r\nHost: 198.51.100.80:1214\r\nX-Kazaa-Username: bob\r\nX-Kazaa-Network: KaZaA\r\n\r\n"))
		c.Send(1, []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body))))
		c.Send(1, body)
		c.Close()
		t0 = c.T
	}
	download(3001, "Hello.exe", append([]byte("MZ\x90\x00"), bytes.Repeat([]byte{1}, 100)...))
	download(3002, "holiday.txt", []byte(eicar))
	download(3003, "tool.zip", []byte("PK\x03\x04 operator's own bad file"))
	path := filepath.Join(t.TempDir(), "ioc.pcap")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("PK\x03\x04 operator's own bad file"))
	own, err := risk.ParseIOC("own.txt", strings.NewReader("sha256:"+hex.EncodeToString(sum[:])+" worm operator's list\n"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := risk.New(risk.Config{IOC: risk.DefaultIOC().Merge(own)})
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := pcaptest.Analyze([]string{path}, pcaptest.Options{Risk: eng})
	if err != nil {
		t.Fatal(err)
	}
	pcaptest.Validate(t, pcaptest.Lines(recs))
	got := map[string][]string{} // by source port
	for _, r := range recs {
		if r.Type == event.TypeAlert {
			got[fmt.Sprint(r.Src.Port())] = append(got[fmt.Sprint(r.Src.Port())], r.Alert.Metadata["risk"][0]+":"+r.Alert.Signature)
		}
	}
	for port, want := range map[string]string{"3001": "worm:", "3002": "malware_carrier:", "3003": "worm:"} {
		found := false
		for _, a := range got[port] {
			if strings.HasPrefix(a, want) && strings.Contains(strings.ToLower(a), "known") {
				found = true
			}
		}
		if !found {
			t.Errorf("port %s: no known-bad %s finding in %q", port, want, got[port])
		}
	}
}
