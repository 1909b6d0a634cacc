package magic

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pe builds a minimal MZ/PE header: e_lfanew at 0x3c, "PE\0\0" at off,
// characteristics at off+22 and the optional header magic at off+24.
func pe(off int, chars, optMagic uint16) []byte {
	b := make([]byte, off+64)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3c:], uint32(off))
	copy(b[off:], "PE\x00\x00")
	binary.LittleEndian.PutUint16(b[off+22:], chars)
	binary.LittleEndian.PutUint16(b[off+24:], optMagic)
	return b
}

// elfHdr builds an ELF identification with class, encoding and e_type.
func elfHdr(class, data byte, typ uint16) []byte {
	b := make([]byte, 64)
	copy(b, "\x7fELF")
	b[4], b[5] = class, data
	if data == 1 {
		binary.LittleEndian.PutUint16(b[16:], typ)
	} else {
		binary.BigEndian.PutUint16(b[16:], typ)
	}
	return b
}

// zipHdr builds a Zip local file header for a first member called name
// whose stored data starts with data.
func zipHdr(name, data string) []byte {
	b := make([]byte, 30)
	copy(b, "PK\x03\x04")
	binary.LittleEndian.PutUint16(b[26:], uint16(len(name)))
	return append(append(b, name...), data...)
}

// at returns n bytes (zero padded) with s at offset off.
func at(n, off int, s string) []byte {
	b := make([]byte, n)
	copy(b[off:], s)
	return b
}

func TestDetect(t *testing.T) {
	bmp := at(64, 0, "BM")
	binary.LittleEndian.PutUint32(bmp[14:], 40)
	ts := make([]byte, 400)
	ts[0], ts[188], ts[376] = 0x47, 0x47, 0x47
	tests := []struct {
		name     string
		in       []byte
		desc, ty string
	}{
		{"empty", nil, "empty", Other},
		{"pe32", pe(0x80, 0x0102, 0x10b), "PE32 executable (Windows)", Executable},
		{"pe32+", pe(0x100, 0x0022, 0x20b), "PE32+ executable (Windows)", Executable},
		{"pe32 dll", pe(0x80, 0x2102, 0x10b), "PE32 DLL (Windows)", Executable},
		{"pe header cut", pe(0x80, 0, 0x10b)[:0x84], "PE executable (Windows)", Executable},
		{"pe beyond head", pe(0x300, 0, 0x10b), "MS-DOS executable", Executable},
		{"mz short", []byte("MZ\x90\x00"), "MS-DOS executable", Executable},
		{"mz negative lfanew", append([]byte("MZ"), bytes.Repeat([]byte{0xff}, 100)...), "MS-DOS executable", Executable},
		{"ne", append(at(0x40, 0, "MZ\x00\x00"), "NE\x05\x0a"...), "MS-DOS executable", Executable},
		{"elf64 exec", elfHdr(2, 1, 2), "ELF 64-bit executable", Executable},
		{"elf32 be so", elfHdr(1, 2, 3), "ELF 32-bit shared object", Executable},
		{"elf core", elfHdr(2, 1, 4), "ELF 64-bit core file", Other},
		{"elf short", []byte("\x7fELF\x02"), "ELF", Executable},
		{"macho64", []byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01"), "Mach-O executable (64-bit)", Executable},
		{"macho32 be", []byte("\xfe\xed\xfa\xce"), "Mach-O executable (32-bit)", Executable},
		{"macho fat", []byte("\xca\xfe\xba\xbe\x00\x00\x00\x02"), "Mach-O universal binary", Executable},
		{"java class", []byte("\xca\xfe\xba\xbe\x00\x03\x00\x2d"), "Java class file", Executable},
		{"lnk", []byte("L\x00\x00\x00\x01\x14\x02\x00\x00"), "MS Windows shortcut", Executable},
		{"zip", zipHdr("readme.txt", "hello"), "Zip archive", Archive},
		{"zip empty", []byte("PK\x05\x06\x00\x00"), "Zip archive", Archive},
		{"ooxml", zipHdr("[Content_Types].xml", "<?xml"), "Office Open XML document", Document},
		{"odf", zipHdr("mimetype", "application/vnd.oasis.opendocument.text"), "OpenDocument document", Document},
		{"epub", zipHdr("mimetype", "application/epub+zip"), "EPUB document", Document},
		{"mimetype other", zipHdr("mimetype", "text/plain"), "Zip archive", Archive},
		{"jar", zipHdr("META-INF/MANIFEST.MF", ""), "Java archive (JAR)", Executable},
		{"apk", zipHdr("AndroidManifest.xml", ""), "Android package (APK)", Executable},
		{"zip name cut", []byte("PK\x03\x04\x14\x00"), "Zip archive", Archive},
		{"rar4", []byte("Rar!\x1a\x07\x00\xcf"), "RAR archive", Archive},
		{"rar5", []byte("Rar!\x1a\x07\x01\x00"), "RAR archive", Archive},
		{"7z", []byte("7z\xbc\xaf\x27\x1c\x00\x04"), "7-zip archive", Archive},
		{"gzip", []byte("\x1f\x8b\x08\x00"), "gzip compressed data", Archive},
		{"bzip2", []byte("BZh91AY&SY"), "bzip2 compressed data", Archive},
		{"bzip2 bad level", []byte("BZh0"), "ASCII text", Document},
		{"xz", []byte("\xfd7zXZ\x00\x00"), "XZ compressed data", Archive},
		{"cab", []byte("MSCF\x00\x00\x00\x00\x10"), "Microsoft Cabinet archive", Archive},
		{"ace", at(20, 7, "**ACE**"), "ACE archive", Archive},
		{"lha", []byte("\x00\x00-lh5-"), "LHa archive", Archive},
		{"tar", at(300, 257, "ustar\x0000"), "POSIX tar archive", Archive},
		{"pdf", []byte("%PDF-1.4\n"), "PDF document", Document},
		{"ole2", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00"), "Microsoft OLE2 (Office 97-2003) document", Document},
		{"rtf", []byte("{\\rtf1\\ansi"), "RTF document", Document},
		{"postscript", []byte("%!PS-Adobe-3.0\n"), "PostScript document", Document},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), "PNG image", Image},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), "JPEG image", Image},
		{"gif87", []byte("GIF87a\x01\x00"), "GIF image", Image},
		{"gif89", []byte("GIF89a"), "GIF image", Image},
		{"tiff le", []byte("II*\x00\x08\x00"), "TIFF image", Image},
		{"tiff be", []byte("MM\x00*\x00\x00"), "TIFF image", Image},
		{"psd", []byte("8BPS\x00\x01"), "Adobe Photoshop image", Image},
		{"bmp", bmp, "BMP image", Image},
		{"bm text", []byte("BM is not a bitmap"), "ASCII text", Document},
		{"ico", []byte("\x00\x00\x01\x00\x01\x00\x10\x10\x00\x00\x01\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00"), "MS Windows icon", Image},
		{"wave", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), "WAVE audio", Audio},
		{"avi", []byte("RIFF\x24\x00\x00\x00AVI LIST"), "AVI video", Video},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), "WebP image", Image},
		{"riff midi", []byte("RIFF\x24\x00\x00\x00RMID"), "MIDI audio", Audio},
		{"riff other", []byte("RIFF\x24\x00\x00\x00ACON"), "RIFF data", Other},
		{"riff short", []byte("RIFF"), "ASCII text", Document},
		{"id3", []byte("ID3\x04\x00\x00"), "MP3 audio (ID3)", Audio},
		{"mp3 frame", []byte("\xff\xfb\x90\x64\x00"), "MP3 audio", Audio},
		{"mp2 frame", []byte("\xff\xfd\x90\x64"), "MPEG audio", Audio},
		{"adts", []byte("\xff\xf1\x50\x80"), "AAC audio (ADTS)", Audio},
		{"bad sync bitrate", []byte("\xff\xfb\xf0\x01"), "data", Other},
		{"bad sync version", []byte("\xff\xeb\x90\x01"), "data", Other},
		{"flac", []byte("fLaC\x00\x00\x00\x22"), "FLAC audio", Audio},
		{"ogg vorbis", append(at(28, 0, "OggS"), "\x01vorbis"...), "Ogg Vorbis audio", Audio},
		{"ogg opus", append(at(28, 0, "OggS"), "OpusHead"...), "Ogg Opus audio", Audio},
		{"ogg theora", append(at(28, 0, "OggS"), "\x80theora"...), "Ogg Theora video", Video},
		{"ogg unknown", []byte("OggS\x00\x02"), "Ogg data", Audio},
		{"midi", []byte("MThd\x00\x00\x00\x06"), "MIDI audio", Audio},
		{"au", []byte(".snd\x00\x00\x00\x18"), "Sun/NeXT audio", Audio},
		{"aiff", []byte("FORM\x00\x00\x00\x00AIFF"), "AIFF audio", Audio},
		{"realmedia", []byte(".RMF\x00\x00\x00\x12"), "RealMedia file", Video},
		{"realaudio", []byte(".ra\xfd\x00\x04"), "RealAudio", Audio},
		{"mp4", []byte("\x00\x00\x00\x20ftypisom\x00\x00\x02\x00"), "MP4/QuickTime video", Video},
		{"m4a", []byte("\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00"), "MPEG-4 audio (M4A)", Audio},
		{"mov ftyp", []byte("\x00\x00\x00\x14ftypqt  "), "QuickTime video", Video},
		{"3gp", []byte("\x00\x00\x00\x14ftyp3gp5"), "3GPP video", Video},
		{"heic", []byte("\x00\x00\x00\x18ftypheic"), "HEIF image", Image},
		{"avif", []byte("\x00\x00\x00\x18ftypavif"), "AVIF image", Image},
		{"mov old", []byte("\x00\x00\x00\x08wide\x00\x00"), "QuickTime video", Video},
		{"mkv", []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska"), "Matroska video", Video},
		{"webm", []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"), "WebM video", Video},
		{"asf", []byte(asf + "\x00\x00"), "Windows Media (ASF)", Video},
		{"flv", []byte("FLV\x01\x05"), "Flash video", Video},
		{"mpeg ps", []byte("\x00\x00\x01\xba\x44"), "MPEG video", Video},
		{"mpeg es", []byte("\x00\x00\x01\xb3\x16"), "MPEG video", Video},
		{"mpeg ts", ts, "MPEG transport stream", Video},
		{"swf", []byte("FWS\x0a\x40\x00\x00\x00"), "Macromedia Flash (SWF)", Script},
		{"cws text", []byte("CWS are letters"), "ASCII text", Document},
		{"sh", []byte("#!/bin/sh\necho hi\n"), "shell script", Script},
		{"bash env", []byte("#! /usr/bin/env bash\n"), "shell script", Script},
		{"python env -S", []byte("#!/usr/bin/env -S python3 -u\n"), "Python script", Script},
		{"perl", []byte("#!/usr/bin/perl -w\n"), "Perl script", Script},
		{"python version", []byte("#!/usr/bin/python2.7"), "Python script", Script},
		{"pythonic not", []byte("#!/usr/bin/pythonista"), "script", Script},
		{"unknown interp", []byte("#!/opt/x/thing\n"), "script", Script},
		{"bare shebang", []byte("#!"), "script", Script},
		{"php", []byte("<?PHP echo 1; ?>"), "PHP script", Script},
		{"batch", []byte("@ECHO OFF\r\ndel *.*\r\n"), "DOS batch file", Script},
		{"regedit", []byte("REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE]"), "Windows registry file", Script},
		{"html", []byte("\n  <!DOCTYPE html><html>"), "HTML document", Document},
		{"html tag", []byte("<HTML><BODY>"), "HTML document", Document},
		{"xml", []byte("<?xml version=\"1.0\"?><a/>"), "XML document", Document},
		{"svg xml", []byte("<?xml version=\"1.0\"?>\n<svg xmlns=\"x\">"), "SVG image", Image},
		{"svg bare", []byte("<svg width=\"1\">"), "SVG image", Image},
		{"ascii", []byte("hello world\r\n\tbye\f"), "ASCII text", Document},
		{"utf8", []byte("grüße\n"), "UTF-8 Unicode text", Document},
		{"utf8 bom", []byte("\xef\xbb\xbfhello"), "UTF-8 Unicode (with BOM) text", Document},
		{"latin1", []byte("gr\xfc\xdfe\n"), "ISO-8859 text", Document},
		{"utf16le", []byte("\xff\xfeh\x00i\x00"), "Unicode text, UTF-16 (little-endian)", Document},
		{"utf16be", []byte("\xfe\xff\x00h\x00i"), "Unicode text, UTF-16 (big-endian)", Document},
		{"nul", []byte("abc\x00def"), "data", Other},
		{"control", []byte("abc\x01def"), "data", Other},
		{"del", []byte("abc\x7f"), "data", Other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			desc, ty := Detect(tt.in)
			if desc != tt.desc || ty != tt.ty {
				t.Errorf("Detect(%q) = %q, %q; want %q, %q", tt.in, desc, ty, tt.desc, tt.ty)
			}
		})
	}
}

// TestDetectUTF8Cut checks that a multi-byte character cut by the head
// boundary does not turn UTF-8 text into ISO-8859.
func TestDetectUTF8Cut(t *testing.T) {
	b := append(bytes.Repeat([]byte("a"), HeadSize-1), "ü"...) // ü is 2 bytes: one falls off
	if desc, _ := Detect(b); desc != "UTF-8 Unicode text" {
		t.Errorf("got %q", desc)
	}
}

// TestDetectOnlyHead checks that bytes past HeadSize never change the answer.
func TestDetectOnlyHead(t *testing.T) {
	b := append(bytes.Repeat([]byte("a"), HeadSize), 0, 1, 2)
	if desc, _ := Detect(b); desc != "ASCII text" {
		t.Errorf("got %q", desc)
	}
}

// TestDetectRealHeads runs the heads of real files (testdata/SOURCES.md).
func TestDetectRealHeads(t *testing.T) {
	want := map[string][2]string{
		"bmp.bin":       {"BMP image", Image},
		"bzip2.bin":     {"bzip2 compressed data", Archive},
		"elf64.bin":     {"ELF 64-bit shared object", Executable},
		"gif.bin":       {"GIF image", Image},
		"gzip.bin":      {"gzip compressed data", Archive},
		"html.bin":      {"HTML document", Document},
		"jar.bin":       {"Java archive (JAR)", Executable},
		"javaclass.bin": {"Java class file", Executable},
		"jpeg.bin":      {"JPEG image", Image},
		"mp3.bin":       {"MP3 audio (ID3)", Audio},
		"odt.bin":       {"OpenDocument document", Document},
		"pdf.bin":       {"PDF document", Document},
		"pe-signed.bin": {"PE32 executable (Windows)", Executable},
		"pe32.bin":      {"PE32 executable (Windows)", Executable},
		"png.bin":       {"PNG image", Image},
		"shell.bin":     {"shell script", Script},
		"svg.bin":       {"SVG image", Image},
		"tar.bin":       {"POSIX tar archive", Archive},
		"text.bin":      {"ASCII text", Document},
		"tiff.bin":      {"TIFF image", Image},
		"wav.bin":       {"WAVE audio", Audio},
		"webp.bin":      {"WebP image", Image},
		"xz.bin":        {"XZ compressed data", Archive},
		"zip.bin":       {"Zip archive", Archive},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "heads", "*.bin"))
	if err != nil || len(files) != len(want) {
		t.Fatalf("testdata/heads: %d files, %v; want %d", len(files), err, len(want))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		desc, ty := Detect(b)
		if w := want[filepath.Base(f)]; desc != w[0] || ty != w[1] {
			t.Errorf("%s: got %q, %q; want %q, %q", f, desc, ty, w[0], w[1])
		}
	}
}

func TestDetectAllocs(t *testing.T) {
	heads := [][]byte{
		pe(0x80, 0, 0x10b), zipHdr("mimetype", "application/epub+zip"),
		[]byte("#!/usr/bin/env -S python3\n"), []byte("grüße, world"), []byte("\x00data"),
		append(at(28, 0, "OggS"), "OpusHead"...),
	}
	for _, h := range heads {
		if n := testing.AllocsPerRun(100, func() { Detect(h) }); n != 0 {
			t.Errorf("Detect(%q) allocates %v times", h, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Mismatch("Holiday.JPG.exe", Executable) }); n != 0 {
		t.Errorf("Mismatch allocates %v times", n)
	}
}

func TestExtClass(t *testing.T) {
	tests := []struct{ name, want string }{
		{"setup.exe", Executable},
		{"SETUP.EXE", Executable},
		{"screensaver.scr", Executable},
		{"game.pif", Executable},
		{"cmd.com", Executable},
		{"run.bat", Script},
		{"run.CMD", Script},
		{"love-letter-for-you.txt.vbs", Script},
		{"a.js", Script},
		{"song.mp3", Audio},
		{"movie.avi", Video},
		{"pic.jpeg", Image},
		{"report.pdf", Document},
		{"x.7z", Archive},
		{"a.exe.", Executable},        // Windows drops trailing dots
		{"a.exe . ", Executable},      // and spaces
		{"a.exe\x00.jpg", Executable}, // C clients stop at NUL
		{`C:\dir.jpg\evil.exe`, Executable},
		{"dir.exe/photo.png", Image},
		{".profile", ""},
		{"noext", ""},
		{"", ""},
		{"trailing.", ""},
		{"a.verylongextension", ""},
		{"a.unknown", ""},
		{"....", ""},
	}
	for _, tt := range tests {
		if got := ExtClass(tt.name); got != tt.want {
			t.Errorf("ExtClass(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestMismatch(t *testing.T) {
	tests := []struct {
		name, typ string
		want      bool
	}{
		{"photo.jpg", Executable, true},
		{"song.mp3", Executable, true},
		{"report.pdf", Executable, true},
		{"archive.zip", Executable, true},
		{"setup.exe", Executable, false},
		{"install.bat", Executable, false}, // both runnable
		{"noext", Executable, false},       // nothing claimed
		{"pic.jpg", Script, true},
		{"notes.txt", Script, false},
		{"run.sh", Script, false},
		{"movie.avi", Archive, true}, // P2P decoy
		{"song.mp3", Document, true}, // e.g. an HTML error page
		{"song.mp3", Video, false},   // audio and video share containers
		{"clip.mp4", Audio, false},
		{"pic.png", Image, false},
		{"pic.png", Other, false}, // "data" contradicts nothing
		{"letter.docx", Archive, false},
		{"setup.msi", Document, false},
		{"x.unknown", Executable, false},
		{"x.jpg", "", false},
	}
	for _, tt := range tests {
		if got := Mismatch(tt.name, tt.typ); got != tt.want {
			t.Errorf("Mismatch(%q, %q) = %v, want %v", tt.name, tt.typ, got, tt.want)
		}
	}
}

func FuzzDetect(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "heads", "*.bin"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("MZ"))                                 // PE header pointer missing
	f.Add(pe(0x1f0, 0, 0x20b))                          // PE header at the head's end
	f.Add(zipHdr("mimetype", "application/epub"))       // ODF/EPUB prefix cut
	f.Add([]byte("#!/usr/bin/env -"))                   // env with only options
	f.Add([]byte("\xff\xfb"))                           // frame sync cut
	f.Add(append(bytes.Repeat([]byte("a"), 511), 0xc3)) // rune cut at the head boundary
	f.Fuzz(func(t *testing.T, b []byte) {
		desc, ty := Detect(b)
		if desc == "" || !slices.Contains(Classes, ty) {
			t.Fatalf("Detect(%q) = %q, %q", b, desc, ty)
		}
		if len(b) > HeadSize {
			if d2, t2 := Detect(b[:HeadSize]); d2 != desc || t2 != ty {
				t.Fatalf("bytes past HeadSize changed the answer")
			}
		}
		name := string(b)
		if c := ExtClass(name); c != "" && !slices.Contains(Classes, c) {
			t.Fatalf("ExtClass(%q) = %q", name, c)
		}
		if Mismatch(name, ty) && (ty == Other || ExtClass(name) == "") {
			t.Fatalf("Mismatch without a claim: %q, %q", name, ty)
		}
		if strings.ContainsRune(desc, 0) {
			t.Fatalf("desc holds NUL")
		}
	})
}

func BenchmarkDetect(b *testing.B) {
	head := pe(0x80, 0x0102, 0x10b)
	text := bytes.Repeat([]byte("plain text "), 50)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Detect(head)
		Detect(text)
	}
}
