package pcapfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerwatch/peerwatch/decode"
)

// TestTestdata reads the committed captures and checks them against what
// capinfos and tshark report for the same files (see testdata/SOURCES.md).
func TestTestdata(t *testing.T) {
	cases := []struct {
		file        string
		format      string
		packets     int
		bytes       int // sum of captured lengths
		first, last time.Time
		ifaces      []int // interface of each frame; nil: all 0
	}{
		{"edonkey.pcap", "pcap", 17, 2016, unix(1256627019, 12259000), unix(1256627076, 408912000), nil},
		{"knxip.pcapng", "pcapng", 3, 200, unix(1713288329, 876632545), unix(1629801418, 105532000), []int{0, 0, 1}},
		{"bt-http.pcapng", "pcapng", 14, 1492, unix(1631962352, 376282703), unix(1631962409, 934151857), nil},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			r, err := Open(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var n, total int
			var first, last time.Time
			for {
				data, ci, err := r.ReadPacket()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("frame %d: %v", n, err)
				}
				if len(data) != ci.CaptureLen || ci.CaptureLen > ci.Length {
					t.Errorf("frame %d: %d bytes, CaptureLen %d, Length %d", n, len(data), ci.CaptureLen, ci.Length)
				}
				if ci.LinkType != decode.LinkEthernet {
					t.Errorf("frame %d: link type %d", n, ci.LinkType)
				}
				if tc.ifaces != nil && ci.Interface != tc.ifaces[n] {
					t.Errorf("frame %d: interface %d, want %d", n, ci.Interface, tc.ifaces[n])
				}
				if n == 0 {
					first = ci.Timestamp
				}
				last = ci.Timestamp
				n++
				total += len(data)
			}
			if r.Format() != tc.format {
				t.Errorf("Format() = %q, want %q", r.Format(), tc.format)
			}
			if n != tc.packets || total != tc.bytes {
				t.Errorf("%d frames, %d bytes; want %d, %d", n, total, tc.packets, tc.bytes)
			}
			if !first.Equal(tc.first) || !last.Equal(tc.last) {
				t.Errorf("first %v last %v; want %v, %v", first, last, tc.first, tc.last)
			}
		})
	}
}

func TestOpenMissing(t *testing.T) {
	if _, err := Open(filepath.Join("testdata", "no-such-file.pcap")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a missing file: %v, want fs.ErrNotExist", err)
	}
}

// TestGzipFile checks that a gzip-compressed copy of a real capture, opened
// from disk, yields the same frames, infos and offsets as the original.
func TestGzipFile(t *testing.T) {
	for _, name := range []string{"edonkey.pcap", "knxip.pcapng"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "capture.gz")
			if err := os.WriteFile(path, gz(raw), 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			_, wantData, wantInfo, err := readAll(t, name, raw)
			if err != io.EOF {
				t.Fatal(err)
			}
			for i := range wantData {
				data, ci, err := r.ReadPacket()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if !bytes.Equal(data, wantData[i]) || ci != wantInfo[i] {
					t.Fatalf("frame %d differs: %+v, want %+v", i, ci, wantInfo[i])
				}
			}
			if _, _, err := r.ReadPacket(); err != io.EOF {
				t.Fatalf("after the last frame: %v, want io.EOF", err)
			}
			if want := strings.TrimPrefix(filepath.Ext(name), ".") + "+gzip"; r.Format() != want {
				t.Errorf("Format() = %q, want %q", r.Format(), want)
			}
			if r.Offset() != int64(len(raw)) {
				t.Errorf("Offset() = %d, want %d", r.Offset(), len(raw))
			}
		})
	}
}
