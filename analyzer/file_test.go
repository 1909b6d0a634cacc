package analyzer

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/peerwatch/peerwatch/event"
)

const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// newFile returns a Recorder and a File on it, with extraction into dir
// (none if empty) capped at max.
func newFile(t testing.TB, name string, size int64, dir string, max int64) (*Recorder, *File) {
	t.Helper()
	r := NewRecorder()
	r.Opts.ExtractDir, r.Opts.ExtractMax = dir, max
	return r, r.Session(&Spec{Name: "test"}).File(name, size, event.FileTransfer)
}

// peHead is the start of a PE32 executable: "MZ", e_lfanew = 0x80, "PE\0\0",
// optional header magic 0x10b.
func peHead() []byte {
	b := make([]byte, 0x200)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3c:], 0x80)
	copy(b[0x80:], "PE\x00\x00")
	binary.LittleEndian.PutUint16(b[0x80+24:], 0x10b)
	return b
}

func TestFileVectors(t *testing.T) {
	tests := []struct {
		name, data string
		want       event.FileRec
		typ        string
	}{
		{"abc.txt", "abc", event.FileRec{
			Filename: "abc.txt", Size: 3, State: "CLOSED",
			MD5:    "900150983cd24fb0d6963f7d28e17f72",
			SHA1:   "a9993e364706816aba3e25717850c26c9cd0d89d",
			SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
			Magic:  "ASCII text",
		}, "document"},
		{"eicar.com", eicar, event.FileRec{
			Filename: "eicar.com", Size: 68, State: "CLOSED",
			MD5:    "44d88612fea8a8f36de82e1278abb02f",
			SHA1:   "3395856ce81f2b7382dee72602f798b642f14140",
			SHA256: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
			Magic:  "ASCII text",
		}, "document"},
		{"empty", "", event.FileRec{
			Filename: "empty", Size: 0, State: "CLOSED",
			MD5:    "d41d8cd98f00b204e9800998ecf8427e",
			SHA1:   "da39a3ee5e6b4b0d3255bfef95601890afd80709",
			SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			Magic:  "empty",
		}, "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, f := newFile(t, tt.name, int64(len(tt.data)), "", 0)
			f.Write([]byte(tt.data))
			f.Close(FileClosed)
			if d := cmp.Diff(tt.want, f.Record()); d != "" {
				t.Errorf("record (-want +got):\n%s", d)
			}
			if f.Type() != tt.typ {
				t.Errorf("Type = %q, want %q", f.Type(), tt.typ)
			}
			if got := hex.EncodeToString(f.SHA1()); got != tt.want.SHA1 {
				t.Errorf("SHA1 = %s", got)
			}
			if len(r.Files) != 1 || r.Files[0] != f {
				t.Errorf("FileDone calls: %d", len(r.Files))
			}
		})
	}
}

// TestFileSplitWrites checks that every 2-way split (and byte-at-a-time
// writes) give the same record as one write, across the magic head boundary.
func TestFileSplitWrites(t *testing.T) {
	data := append(peHead(), bytes.Repeat([]byte("0123456789"), 60)...)
	_, whole := newFile(t, "a.exe", int64(len(data)), "", 0)
	whole.Write(data)
	whole.Close(FileClosed)
	want := whole.Record()
	if want.Magic != "PE32 executable (Windows)" {
		t.Fatalf("magic %q", want.Magic)
	}
	for i := 0; i <= len(data); i++ {
		_, f := newFile(t, "a.exe", int64(len(data)), "", 0)
		f.Write(data[:i])
		f.Write(data[i:])
		f.Close(FileClosed)
		if d := cmp.Diff(want, f.Record()); d != "" {
			t.Fatalf("split at %d (-whole +split):\n%s", i, d)
		}
	}
	_, f := newFile(t, "a.exe", int64(len(data)), "", 0)
	for i := range data {
		f.Write(data[i : i+1])
	}
	f.Close(FileClosed)
	if d := cmp.Diff(want, f.Record()); d != "" {
		t.Fatalf("byte at a time (-whole +bytes):\n%s", d)
	}
}

func TestFileState(t *testing.T) {
	tests := []struct {
		name      string
		announced int64
		write     int
		gap       int
		close     FileState
		want      string
	}{
		{"complete", 10, 10, 0, FileClosed, "CLOSED"},
		{"short", 10, 5, 0, FileClosed, "TRUNCATED"},
		{"nothing", 10, 0, 0, FileClosed, "TRUNCATED"},
		{"unknown size", -1, 5, 0, FileClosed, "CLOSED"},
		{"negative size", -7, 5, 0, FileClosed, "CLOSED"},
		{"longer than announced", 3, 5, 0, FileClosed, "CLOSED"},
		{"gap fills the size", 10, 6, 4, FileClosed, "CLOSED"},
		{"gap and short", 10, 3, 4, FileClosed, "TRUNCATED"},
		{"truncated by caller", 10, 10, 0, FileTruncated, "TRUNCATED"},
		{"error", 10, 10, 0, FileError, "ERROR"},
		{"error short", 10, 1, 0, FileError, "ERROR"},
		{"out of range", 10, 10, 0, FileState(99), "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, f := newFile(t, "x", tt.announced, "", 0)
			f.Write(bytes.Repeat([]byte("a"), tt.write))
			f.Gap(tt.gap)
			f.Close(tt.close)
			rec := f.Record()
			if rec.State != tt.want || rec.Size != int64(tt.write) {
				t.Errorf("state %q size %d, want %q %d", rec.State, rec.Size, tt.want, tt.write)
			}
		})
	}
}

func TestFileGap(t *testing.T) {
	_, f := newFile(t, "song.mp3", 20, "", 0)
	f.Write([]byte("ID3\x04\x00"))
	f.Gap(10)
	f.Write([]byte("tail!"))
	f.Close(FileClosed)
	want := event.FileRec{Filename: "song.mp3", Size: 10, State: "CLOSED", Gaps: true, Magic: "MP3 audio (ID3)"}
	if d := cmp.Diff(want, f.Record()); d != "" {
		t.Errorf("record (-want +got):\n%s", d)
	}
	if f.SHA1() != nil {
		t.Error("SHA1 after a gap")
	}
	if f.Type() != "audio" {
		t.Errorf("Type = %q", f.Type())
	}

	// A gap before the first byte: nothing is known of the file's start.
	_, f = newFile(t, "x.exe", -1, "", 0)
	f.Gap(100)
	f.Write(peHead())
	f.Close(FileClosed)
	if rec := f.Record(); rec.Magic != "" || f.Type() != "other" || rec.SHA256 != "" || !rec.Gaps {
		t.Errorf("gap at start: %+v type %q", rec, f.Type())
	}

	// Gap(0) and negative gaps are no gaps.
	_, f = newFile(t, "x", 3, "", 0)
	f.Gap(0)
	f.Gap(-5)
	f.Write([]byte("abc"))
	f.Close(FileClosed)
	if rec := f.Record(); rec.Gaps || rec.SHA256 == "" {
		t.Errorf("empty gaps counted: %+v", rec)
	}
}

func TestFileCloseOnce(t *testing.T) {
	r, f := newFile(t, "x", -1, "", 0)
	f.Write([]byte("abc"))
	if f.Closed() {
		t.Fatal("closed before Close")
	}
	f.Close(FileClosed)
	f.Write([]byte("more"))
	f.Gap(3)
	f.Close(FileError)
	rec := f.Record()
	if !f.Closed() || len(r.Files) != 1 || rec.State != "CLOSED" || rec.Size != 3 || rec.Gaps ||
		rec.SHA256 != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("after second Close: %d FileDone calls, %+v", len(r.Files), rec)
	}
}

func TestFileAccessors(t *testing.T) {
	_, f := newFile(t, "holiday.jpg", 1234, "", 0)
	if f.Name() != "holiday.jpg" || f.Announced() != 1234 || f.Feature() != event.FileTransfer {
		t.Errorf("accessors: %q %d %q", f.Name(), f.Announced(), f.Feature())
	}
	// Before Close: no state, no SHA1, live type and hashes.
	f.Write(peHead())
	rec := f.Record()
	if rec.State != "" || f.SHA1() != nil || f.Type() != "executable" || rec.Magic != "PE32 executable (Windows)" || rec.SHA256 == "" {
		t.Errorf("before Close: %+v type %q", rec, f.Type())
	}
	f.Close(FileTruncated)
	if f.Record().SHA256 != rec.SHA256 {
		t.Error("Record before Close changed the digest")
	}
}

func TestFileMismatch(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
	zip := []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00")
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"holiday.jpg", peHead(), true},
		{"Britney Spears - Toxic.mp3", peHead(), true},
		{"setup.exe", peHead(), false},
		{"photo.png", png, false},
		{"movie.avi", zip, true},
		{"pics.zip", zip, false},
		{"holiday.jpg.exe", peHead(), false},
		{"noextension", peHead(), false},
	}
	for _, tt := range tests {
		_, f := newFile(t, tt.name, -1, "", 0)
		f.Write(tt.data)
		f.Close(FileClosed)
		if f.Mismatch() != tt.want {
			t.Errorf("%q: Mismatch = %v, want %v", tt.name, f.Mismatch(), tt.want)
		}
	}
}

func TestFileLongName(t *testing.T) {
	name := strings.Repeat("é", 3000) + ".jpg.exe"
	_, f := newFile(t, name, -1, "", 0)
	n := f.Name()
	if len(n) > MaxFileName+len("…") || !strings.HasSuffix(n, ".jpg.exe") || !strings.HasPrefix(n, "éé") {
		t.Errorf("bounded name: %d bytes, %q...%q", len(n), n[:10], n[len(n)-10:])
	}
	if !strings.Contains(n, "…") || strings.ContainsRune(n, '\uFFFD') {
		t.Errorf("bounded name not cut at characters")
	}
}

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestFileExtract(t *testing.T) {
	const sum = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
	tests := []struct {
		name      string
		fileName  string
		announced int64
		max       int64
		gap       bool
		state     FileState
		stored    bool
	}{
		{"stored", "eicar.com", 68, 0, false, FileClosed, true},
		{"traversal name", "../../../etc/cron.d/x", 68, 0, false, FileClosed, true},
		{"exactly at cap", "a", 68, 68, false, FileClosed, true},
		{"unknown size at cap", "a", -1, 68, false, FileClosed, true},
		{"truncated stored", "a", 1000, 0, false, FileClosed, true},
		{"error stored", "a", 68, 0, false, FileError, true},
		{"over cap while writing", "a", -1, 67, false, FileClosed, false},
		{"announced over cap", "a", 1 << 30, 1000, false, FileClosed, false},
		{"gap", "a", 68, 0, true, FileClosed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, f := newFile(t, tt.fileName, tt.announced, dir, tt.max)
			f.Write([]byte(eicar[:30]))
			if tt.gap {
				f.Gap(1)
			}
			f.Write([]byte(eicar[30:]))
			f.Close(tt.state)
			rec := f.Record()
			if rec.Stored != tt.stored || f.Err() != nil {
				t.Fatalf("stored %v err %v, want %v", rec.Stored, f.Err(), tt.stored)
			}
			names := dirEntries(t, dir)
			if !tt.stored {
				if len(names) != 0 {
					t.Errorf("left behind: %v", names)
				}
				return
			}
			if len(names) != 1 || names[0] != sum || rec.SHA256 != sum {
				t.Fatalf("dir holds %v, record sha256 %s", names, rec.SHA256)
			}
			p := filepath.Join(dir, sum)
			got, err := os.ReadFile(p)
			if err != nil || string(got) != eicar {
				t.Errorf("stored content %q, %v", got, err)
			}
			if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("stored mode %v, %v", st.Mode(), err)
			}
		})
	}
}

func TestFileExtractOff(t *testing.T) {
	dir := t.TempDir()
	_, f := newFile(t, "a", 3, "", 100)
	f.Write([]byte("abc"))
	f.Close(FileClosed)
	if f.Record().Stored || f.Err() != nil || len(dirEntries(t, dir)) != 0 {
		t.Errorf("stored with extraction off")
	}
}

// TestFileExtractSame stores the same content twice: one file remains.
func TestFileExtractSame(t *testing.T) {
	dir := t.TempDir()
	for range 2 {
		_, f := newFile(t, "a", 3, dir, 0)
		f.Write([]byte("abc"))
		f.Close(FileClosed)
		if !f.Record().Stored {
			t.Fatal("not stored")
		}
	}
	if names := dirEntries(t, dir); len(names) != 1 {
		t.Errorf("dir holds %v", names)
	}
}

func TestFileExtractError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	_, f := newFile(t, "a", 3, dir, 0)
	f.Write([]byte("abc"))
	f.Close(FileClosed)
	rec := f.Record()
	if rec.Stored || !errors.Is(f.Err(), ErrExtract) || rec.SHA256 == "" {
		t.Errorf("stored %v err %v", rec.Stored, f.Err())
	}
	if !strings.HasPrefix(f.Err().Error(), "analyzer: ") {
		t.Errorf("error text %q", f.Err())
	}
}

func TestFileWriteAllocs(t *testing.T) {
	buf := bytes.Repeat([]byte("x"), 1500)
	for _, extract := range []bool{false, true} {
		dir := ""
		if extract {
			dir = t.TempDir()
		}
		_, f := newFile(t, "a", -1, dir, 0)
		if n := testing.AllocsPerRun(200, func() { f.Write(buf) }); n != 0 {
			t.Errorf("extract=%v: Write allocates %v times", extract, n)
		}
		f.Close(FileClosed)
		if f.Record().Stored != extract {
			t.Errorf("extract=%v: stored %v", extract, f.Record().Stored)
		}
	}
}

func TestFileStateString(t *testing.T) {
	for s, want := range map[FileState]string{FileClosed: "CLOSED", FileTruncated: "TRUNCATED", FileError: "ERROR", 200: "ERROR"} {
		if s.String() != want {
			t.Errorf("%d: %q", s, s.String())
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	buf := bytes.Repeat([]byte("peerwatch"), 32<<10/9)
	_, f := newFile(b, "a", -1, "", 0)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		f.Write(buf)
	}
}

// TestFileExtractLarge writes past the extraction buffer in small chunks,
// with and without a cap that falls after data reached the disk.
func TestFileExtractLarge(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16)
	for _, max := range []int64{0, 50 << 10} {
		dir := t.TempDir()
		_, f := newFile(t, "big.bin", int64(len(data)), dir, max)
		for i := 0; i < len(data); i += 1000 {
			f.Write(data[i:min(i+1000, len(data))])
		}
		f.Close(FileClosed)
		rec := f.Record()
		names := dirEntries(t, dir)
		if max > 0 {
			if rec.Stored || len(names) != 0 || f.Err() != nil {
				t.Errorf("cap %d: stored %v, dir %v, err %v", max, rec.Stored, names, f.Err())
			}
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, rec.SHA256))
		if !rec.Stored || err != nil || !bytes.Equal(got, data) || len(names) != 1 {
			t.Errorf("stored %v, %d bytes back, err %v, dir %v", rec.Stored, len(got), err, names)
		}
	}
}
