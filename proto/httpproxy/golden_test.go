package httpproxy

import (
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/internal/golden"
	"github.com/peerwatch/peerwatch/internal/pcaptest"
	_ "github.com/peerwatch/peerwatch/proto/http"  // the carrier httpproxy competes with
	_ "github.com/peerwatch/peerwatch/proto/oscar" // embedded FLAP
	_ "github.com/peerwatch/peerwatch/proto/ymsg"  // the protocol inside the CONNECT tunnel
)

// realCaptures are the trimmed real (and suricata-verify synthetic)
// captures of testdata, described in testdata/SOURCES.md.
var realCaptures = []string{
	"arkime__https-connect.pcap",
	"nDPI__http-proxy.pcapng",
	"nDPI__http_connect.pcap",
	"zeek__connect-with-header.pcap",
	"zeek__connect-with-smtp.pcap",
	"zeek__proxy.pcap",
	"suricata-verify-synthetic__http-connect-simple.pcap",
	"suricata-verify-synthetic__http-connect-fail.pcap",
	"suricata-verify-synthetic__http-connect-fragmented.pcap",
	"suricata-verify-synthetic__http-connect-tls.pcap",
	"suricata-verify-synthetic__bug-7851-01-connect.pcap",
}

// wantTunnel is the tunnel record each capture must give (checked against
// tshark, see SOURCES.md); "" where httpproxy must not claim the flow.
var wantTunnel = map[string]string{
	"arkime__https-connect.pcap":                              "http_connect ts01-b.cloudsink.net:443 success",
	"nDPI__http-proxy.pcapng":                                 "http_forward http.com:80 success",
	"nDPI__http_connect.pcap":                                 "http_connect apache.org:443 success",
	"zeek__connect-with-header.pcap":                          "http_connect secure.newegg.com:443 success",
	"zeek__connect-with-smtp.pcap":                            "http_connect mailin03.sul.t-online.de:25 success",
	"zeek__proxy.pcap":                                        "http_forward bro.org:80 success",
	"suricata-verify-synthetic__http-connect-simple.pcap":     "http_connect abc:443 success",
	"suricata-verify-synthetic__http-connect-fail.pcap":       "http_connect abc:443 success",
	"suricata-verify-synthetic__http-connect-fragmented.pcap": "http_connect abc:443 success",
	"suricata-verify-synthetic__http-connect-tls.pcap":        "http_connect abc:443 success",
	"suricata-verify-synthetic__bug-7851-01-connect.pcap":     "",
}

func TestGolden(t *testing.T) {
	for _, name := range realCaptures {
		t.Run(name, func(t *testing.T) {
			recs, _, err := pcaptest.Analyze([]string{filepath.Join("testdata", name)}, pcaptest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				if r.Type == "httpproxy" && r.PW != nil && r.PW.Tunnel != nil {
					got = append(got, r.PW.Tunnel.Kind+" "+r.PW.Tunnel.Target+" "+string(r.PW.Tunnel.Outcome))
				}
			}
			if want := wantTunnel[name]; strings.Join(got, ";") != want {
				t.Errorf("tunnel records %q, want %q", got, want)
			}
			lines := pcaptest.Lines(recs)
			pcaptest.Validate(t, lines)
			base := strings.TrimSuffix(strings.TrimSuffix(name, ".pcapng"), ".pcap")
			golden.Check(t, filepath.Join("testdata", base+".golden.jsonl"), lines)
		})
	}
}

// ymsgPDU builds a YMSG PDU byte for byte from ymsg.md §1: magic, version
// 6 (bytes 06 00, gaim 0.56), vendor 0, payload length, service, status,
// session id, then key C0 80 value C0 80 pairs.
func ymsgPDU(svc uint16, session uint32, kv ...string) []byte {
	var p []byte
	for _, s := range kv {
		p = append(append(p, s...), 0xC0, 0x80)
	}
	b := []byte("YMSG\x06\x00\x00\x00")
	b = binary.BigEndian.AppendUint16(b, uint16(len(p)))
	b = binary.BigEndian.AppendUint16(b, svc)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, session)
	return append(b, p...)
}

// flap builds a FLAP frame (aim-oscar.md §1.1): 2A, channel, sequence,
// length, payload.
func flap(ch uint8, seq uint16, payload []byte) []byte {
	b := []byte{flapStart, ch}
	b = binary.BigEndian.AppendUint16(b, seq)
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	return append(b, payload...)
}

func tlv(typ uint16, v []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// roast XORs an ICQ/AIM password with the roasting table of icq.md §2.1.
func roast(pw string) []byte {
	key := []byte{0xF3, 0x26, 0x81, 0xC4, 0x39, 0x86, 0xDB, 0x92, 0x71, 0xA3, 0xB9, 0xE6, 0x53, 0x7A, 0x95, 0x7C}
	out := []byte(pw)
	for i := range out {
		out[i] ^= key[i%len(key)]
	}
	return out
}

var t0 = time.Date(2002, 6, 3, 9, 30, 0, 0, time.UTC)

// buildYMSG writes connect-ymsg.pcap: a Yahoo! Messenger client behind an
// HTTP proxy on 8080 opens CONNECT scs.msg.yahoo.com:5050 with Basic proxy
// credentials, gets 200, then signs on with a v6 login (ymsg.md §3.2).
func buildYMSG() []byte {
	w := pcaptest.NewWriter()
	c := w.TCP(t0, netip.MustParseAddrPort("192.168.1.50:1050"), netip.MustParseAddrPort("192.168.1.1:8080"))
	c.Handshake()
	c.Send(0, []byte("CONNECT scs.msg.yahoo.com:5050 HTTP/1.0\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 5.5; Windows 98)\r\n"+
		"Host: scs.msg.yahoo.com:5050\r\nProxy-Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte("alice:pr0xyPass"))+"\r\n\r\n"))
	c.Send(1, []byte("HTTP/1.0 200 Connection established\r\nProxy-agent: Netscape-Proxy/3.5\r\n\r\n"))
	c.Send(0, ymsgPDU(0x01, 0, "0", "alice_2002", "1", "alice_2002", "6", "$1$_2S43d5f$Qw8sV1bH3kZp0yT5nC7dE."))
	c.Send(1, ymsgPDU(0x01, 0x4A2F19C3, "0", "alice_2002", "1", "alice_2002", "8", "1", "7", "bob_smith", "10", "0", "13", "1"))
	c.Close()
	return w.Bytes()
}

// buildICQ writes icq-http-proxy.pcap: ICQ 2001 using the ICQ HTTP proxy
// host through a forward proxy on 3128. The hello answer carries the
// server's FLAP hello, the POST body the channel-1 XOR login (icq.md §2.1),
// its answer the channel-4 BOS redirect.
func buildICQ() []byte {
	w := pcaptest.NewWriter()
	c := w.TCP(t0, netip.MustParseAddrPort("192.168.1.20:1101"), netip.MustParseAddrPort("192.168.1.1:3128"))
	c.Handshake()
	const ua = "User-Agent: Mozilla/4.0 (compatible; MSIE 5.5; Windows 98)\r\n"
	c.Send(0, []byte("GET http://http.proxy.icq.com/hello HTTP/1.0\r\nHost: http.proxy.icq.com\r\n"+ua+"Proxy-Connection: Keep-Alive\r\n\r\n"))
	hello := flap(1, 1, []byte{0, 0, 0, 1})
	c.Send(1, []byte("HTTP/1.0 200 OK\r\nContent-Type: AIM/HTTP\r\nContent-Length: "+strconv.Itoa(len(hello))+"\r\nProxy-Connection: Keep-Alive\r\n\r\n"))
	c.Send(1, hello)
	var login []byte
	login = append(login, 0, 0, 0, 1)
	login = append(login, tlv(1, []byte("12345678"))...)
	login = append(login, tlv(2, roast("s3cret99"))...)
	login = append(login, tlv(3, []byte("ICQ Inc. - Product of ICQ (TM).2001b.5.18.1.3659.85"))...)
	login = append(login, tlv(0x0F, []byte("en"))...)
	login = append(login, tlv(0x0E, []byte("us"))...)
	body := flap(1, 1, login)
	c.Send(0, []byte("POST http://http.proxy.icq.com/data?sid=1 HTTP/1.0\r\nHost: http.proxy.icq.com\r\n"+ua+
		"Content-Type: application/octet-stream\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\nProxy-Connection: Keep-Alive\r\n\r\n"))
	c.Send(0, body)
	cookie := make([]byte, 256)
	for i := range cookie {
		cookie[i] = byte(i*7 + 3)
	}
	var bye []byte
	bye = append(bye, tlv(1, []byte("12345678"))...)
	bye = append(bye, tlv(5, []byte("205.188.179.233:5190"))...)
	bye = append(bye, tlv(6, cookie)...)
	answer := flap(4, 2, bye)
	c.Send(1, []byte("HTTP/1.0 200 OK\r\nContent-Type: AIM/HTTP\r\nContent-Length: "+strconv.Itoa(len(answer))+"\r\n\r\n"))
	c.Send(1, answer)
	c.Close()
	return w.Bytes()
}

func TestCaptures(t *testing.T) {
	golden.Check(t, filepath.Join("testdata", "connect-ymsg.pcap"), buildYMSG())
	golden.Check(t, filepath.Join("testdata", "icq-http-proxy.pcap"), buildICQ())
}

// TestGoldenConnectYMSG: the YMSG login inside the CONNECT tunnel is parsed
// by the ymsg analyzer, labelled as coming through httpproxy with the
// CONNECT target.
func TestGoldenConnectYMSG(t *testing.T) {
	lines := pcaptest.Golden(t, "connect-ymsg.pcap", false)
	recs, _, err := pcaptest.Analyze([]string{filepath.Join("testdata", "connect-ymsg.pcap")}, pcaptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var login, cred, tunnel bool
	for _, r := range recs {
		switch {
		case r.Type == "ymsg" && r.App != nil && r.App.Event == event.Login:
			login = true
			if r.AppProto != "ymsg" || r.AppProtoOrig != "httpproxy" || r.PW.Proxy == nil ||
				r.PW.Proxy.Kind != "httpproxy" || r.PW.Proxy.Target != "scs.msg.yahoo.com:5050" || r.PW.Proxy.Addr != "192.168.1.1:8080" {
				t.Errorf("ymsg login: app_proto %q orig %q proxy %+v", r.AppProto, r.AppProtoOrig, r.PW.Proxy)
			}
		case r.Type == "httpproxy" && r.PW.Credential != nil:
			cred = r.PW.Credential.User == "alice" && r.PW.Credential.What == "proxy_password" && r.PW.Credential.Secret == ""
		case r.Type == "httpproxy" && r.PW.Tunnel != nil:
			tunnel = r.PW.Tunnel.Kind == "http_connect" && r.PW.Tunnel.Outcome == event.Success
		}
	}
	if !login || !cred || !tunnel {
		t.Errorf("login %v, credential %v, tunnel %v\n%s", login, cred, tunnel, lines)
	}
	pcaptest.Golden(t, "connect-ymsg.pcap", true)
}

// TestGoldenICQHTTPProxy: the FLAP bodies go to an embedded oscar session:
// the ICQ login (UIN, roasted password) appears as oscar records carried
// by httpproxy, and the flow is labelled icq.
func TestGoldenICQHTTPProxy(t *testing.T) {
	lines := pcaptest.Golden(t, "icq-http-proxy.pcap", false)
	recs, _, err := pcaptest.Analyze([]string{filepath.Join("testdata", "icq-http-proxy.pcap")}, pcaptest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var oscarLogin, imTunnel bool
	for _, r := range recs {
		if r.Type == "oscar" && r.App != nil && r.App.Event == event.Login {
			oscarLogin = true
			if r.AppProto != "oscar" || r.AppProtoOrig != "httpproxy" {
				t.Errorf("oscar login: app_proto %q orig %q", r.AppProto, r.AppProtoOrig)
			}
		}
		if r.Type == "httpproxy" && r.PW.Tunnel != nil && r.PW.Tunnel.Kind == "http_tunnel" {
			imTunnel = r.PW.Service == "icq" && r.PW.Tunnel.Target == "http.proxy.icq.com:80"
		}
		if r.Type == "flow" && r.PW != nil && r.PW.Service != "icq" {
			t.Errorf("flow service %q, want icq", r.PW.Service)
		}
	}
	if !oscarLogin || !imTunnel {
		t.Errorf("oscar login %v, http_tunnel %v\n%s", oscarLogin, imTunnel, lines)
	}
}
