package magic

import (
	"encoding/binary"
	"unicode/utf8"
)

// HeadSize is how many leading bytes Detect looks at; more are ignored.
const HeadSize = 512

// Classes of file content: the values of peerwatch.file_type (DESIGN §5).
const (
	Executable = "executable" // native or VM code that runs when opened
	Script     = "script"     // source run by an interpreter or active content
	Archive    = "archive"    // containers and compressed data
	Document   = "document"   // office files, PDF, HTML, plain text
	Audio      = "audio"      // sound
	Video      = "video"      // moving pictures and media containers
	Image      = "image"      // still pictures
	Other      = "other"      // unknown binary data or nothing at all
)

// Classes lists every class Detect and ExtClass may return (ExtClass may
// also return "").
var Classes = []string{Executable, Script, Archive, Document, Audio, Video, Image, Other}

// asf is the ASF header object GUID (Windows Media), 75B22630-668E-11CF-A6D9-00AA0062CE6C.
const asf = "\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c"

// Detect returns a description and the class of the content that starts
// with head. Only the first HeadSize bytes are read. It never allocates.
func Detect(head []byte) (desc string, typ string) {
	if len(head) > HeadSize {
		head = head[:HeadSize]
	}
	b := head
	if len(b) == 0 {
		return "empty", Other
	}
	switch {
	case has(b, 0, "MZ"):
		return dosExe(b), Executable
	case has(b, 0, "\x7fELF"):
		return elf(b)
	case has(b, 0, "\xfe\xed\xfa\xce"), has(b, 0, "\xce\xfa\xed\xfe"):
		return "Mach-O executable (32-bit)", Executable
	case has(b, 0, "\xfe\xed\xfa\xcf"), has(b, 0, "\xcf\xfa\xed\xfe"):
		return "Mach-O executable (64-bit)", Executable
	case has(b, 0, "\xca\xfe\xba\xbe") && len(b) >= 8:
		// Shared by fat Mach-O and Java classes: a fat header counts its
		// architectures (a handful) where a class file has its version
		// (major >= 45) in the same word.
		if binary.BigEndian.Uint32(b[4:]) < 20 {
			return "Mach-O universal binary", Executable
		}
		return "Java class file", Executable
	case has(b, 0, "L\x00\x00\x00\x01\x14\x02\x00"):
		return "MS Windows shortcut", Executable
	case has(b, 0, "dex\n"):
		return "Dalvik executable (Android)", Executable

	case has(b, 0, "PK\x03\x04"):
		return zip(b)
	case has(b, 0, "PK\x05\x06"), has(b, 0, "PK\x07\x08"):
		return "Zip archive", Archive
	case has(b, 0, "Rar!\x1a\x07\x00"), has(b, 0, "Rar!\x1a\x07\x01\x00"):
		return "RAR archive", Archive
	case has(b, 0, "7z\xbc\xaf\x27\x1c"):
		return "7-zip archive", Archive
	case has(b, 0, "\x1f\x8b\x08"):
		return "gzip compressed data", Archive
	case has(b, 0, "BZh") && len(b) >= 4 && b[3] >= '1' && b[3] <= '9':
		return "bzip2 compressed data", Archive
	case has(b, 0, "\xfd7zXZ\x00"):
		return "XZ compressed data", Archive
	case has(b, 0, "MSCF\x00\x00\x00\x00"):
		return "Microsoft Cabinet archive", Archive
	case has(b, 7, "**ACE**"):
		return "ACE archive", Archive
	case has(b, 2, "-lh") && len(b) >= 7 && b[6] == '-':
		return "LHa archive", Archive
	case has(b, 257, "ustar"):
		return "POSIX tar archive", Archive

	case has(b, 0, "%PDF-"):
		return "PDF document", Document
	case has(b, 0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
		return "Microsoft OLE2 (Office 97-2003) document", Document
	case has(b, 0, "{\\rtf"):
		return "RTF document", Document
	case has(b, 0, "%!PS"):
		return "PostScript document", Document

	case has(b, 0, "\x89PNG\r\n\x1a\n"):
		return "PNG image", Image
	case has(b, 0, "\xff\xd8\xff"):
		return "JPEG image", Image
	case has(b, 0, "GIF87a"), has(b, 0, "GIF89a"):
		return "GIF image", Image
	case has(b, 0, "II*\x00"), has(b, 0, "MM\x00*"):
		return "TIFF image", Image
	case has(b, 0, "8BPS"):
		return "Adobe Photoshop image", Image
	case isBMP(b):
		return "BMP image", Image
	case isICO(b):
		return "MS Windows icon", Image

	case has(b, 0, "RIFF") && len(b) >= 12:
		return riff(b)
	case has(b, 0, "ID3"):
		return "MP3 audio (ID3)", Audio
	case has(b, 0, "fLaC"):
		return "FLAC audio", Audio
	case has(b, 0, "OggS"):
		return ogg(b)
	case has(b, 0, "MThd"):
		return "MIDI audio", Audio
	case has(b, 0, ".snd"):
		return "Sun/NeXT audio", Audio
	case has(b, 0, "FORM") && (has(b, 8, "AIFF") || has(b, 8, "AIFC")):
		return "AIFF audio", Audio
	case has(b, 0, ".RMF"):
		return "RealMedia file", Video
	case has(b, 0, ".ra\xfd"):
		return "RealAudio", Audio
	case has(b, 4, "ftyp"):
		return isoMedia(b)
	case has(b, 4, "moov"), has(b, 4, "mdat"), has(b, 4, "wide"):
		return "QuickTime video", Video
	case has(b, 0, "\x1a\x45\xdf\xa3"):
		if contains(b, "webm") {
			return "WebM video", Video
		}
		return "Matroska video", Video
	case has(b, 0, asf):
		return "Windows Media (ASF)", Video
	case has(b, 0, "FLV\x01"):
		return "Flash video", Video
	case has(b, 0, "\x00\x00\x01\xba"), has(b, 0, "\x00\x00\x01\xb3"):
		return "MPEG video", Video
	case len(b) > 376 && b[0] == 0x47 && b[188] == 0x47 && b[376] == 0x47:
		return "MPEG transport stream", Video
	case (has(b, 0, "FWS") || has(b, 0, "CWS") || has(b, 0, "ZWS")) && isSWF(b):
		// Flash movies are active content: ActionScript runs when played.
		return "Macromedia Flash (SWF)", Script

	case has(b, 0, "\xff\xfe") && len(b) >= 4 && b[3] == 0:
		return "Unicode text, UTF-16 (little-endian)", Document
	case has(b, 0, "\xfe\xff") && len(b) >= 4 && b[2] == 0:
		return "Unicode text, UTF-16 (big-endian)", Document
	}
	if d, ok := mpegAudio(b); ok {
		return d, Audio
	}
	return text(b)
}

// has reports whether b holds s at offset off.
func has(b []byte, off int, s string) bool {
	return off >= 0 && off <= len(b) && len(b)-off >= len(s) && string(b[off:off+len(s)]) == s
}

// contains reports whether s occurs in b.
func contains(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}

// hasFold reports whether b holds s at offset off, ignoring ASCII case; s
// must be lower case.
func hasFold(b []byte, off int, s string) bool {
	if off < 0 || off > len(b) || len(b)-off < len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := b[off+i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// dosExe names an MZ executable by the header e_lfanew points at.
// PE/COFF: "PE\0\0", COFF header (machine 2, sections 2, time 4, symtab 4,
// symbols 4, optional header size 2, characteristics 2), then the optional
// header whose magic is 0x10b (PE32) or 0x20b (PE32+).
func dosExe(b []byte) string {
	if len(b) < 0x40 {
		return "MS-DOS executable"
	}
	off := int(binary.LittleEndian.Uint32(b[0x3c:]))
	if off <= 0 || off > len(b)-2 {
		return "MS-DOS executable"
	}
	switch {
	case has(b, off, "PE\x00\x00"):
		if off+26 > len(b) {
			return "PE executable (Windows)"
		}
		dll := binary.LittleEndian.Uint16(b[off+22:])&0x2000 != 0
		switch binary.LittleEndian.Uint16(b[off+24:]) {
		case 0x10b:
			if dll {
				return "PE32 DLL (Windows)"
			}
			return "PE32 executable (Windows)"
		case 0x20b:
			if dll {
				return "PE32+ DLL (Windows)"
			}
			return "PE32+ executable (Windows)"
		}
		return "PE executable (Windows)"
	case has(b, off, "NE"):
		return "MS Windows 16-bit executable (NE)"
	case has(b, off, "LE"), has(b, off, "LX"):
		return "MS-DOS executable (LE/LX)"
	}
	return "MS-DOS executable"
}

// elf names an ELF file by class (byte 4), data encoding (byte 5) and
// e_type (bytes 16-17).
func elf(b []byte) (string, string) {
	if len(b) < 18 || (b[4] != 1 && b[4] != 2) || (b[5] != 1 && b[5] != 2) {
		return "ELF", Executable
	}
	var t uint16
	if b[5] == 1 {
		t = binary.LittleEndian.Uint16(b[16:])
	} else {
		t = binary.BigEndian.Uint16(b[16:])
	}
	if b[4] == 1 {
		switch t {
		case 1:
			return "ELF 32-bit relocatable", Executable
		case 2:
			return "ELF 32-bit executable", Executable
		case 3:
			return "ELF 32-bit shared object", Executable
		case 4:
			return "ELF 32-bit core file", Other
		}
		return "ELF 32-bit", Executable
	}
	switch t {
	case 1:
		return "ELF 64-bit relocatable", Executable
	case 2:
		return "ELF 64-bit executable", Executable
	case 3:
		return "ELF 64-bit shared object", Executable
	case 4:
		return "ELF 64-bit core file", Other
	}
	return "ELF 64-bit", Executable
}

// zip names a Zip file by its first local header: name length at 26, extra
// length at 28, name at 30, then the first member's data.
func zip(b []byte) (string, string) {
	if contains(b, "[Content_Types].xml") {
		return "Office Open XML document", Document
	}
	if len(b) >= 30 {
		nl := int(binary.LittleEndian.Uint16(b[26:]))
		xl := int(binary.LittleEndian.Uint16(b[28:]))
		data := 30 + nl + xl
		switch {
		case nl == 8 && has(b, 30, "mimetype"):
			// OpenDocument and EPUB store their media type uncompressed first.
			if has(b, data, "application/vnd.oasis.opendocument") {
				return "OpenDocument document", Document
			}
			if has(b, data, "application/epub+zip") {
				return "EPUB document", Document
			}
		case has(b, 30, "META-INF/"):
			return "Java archive (JAR)", Executable
		case nl == 19 && has(b, 30, "AndroidManifest.xml"), nl == 11 && has(b, 30, "classes.dex"):
			return "Android package (APK)", Executable
		}
	}
	return "Zip archive", Archive
}

// riff names a RIFF container by its form type at offset 8.
func riff(b []byte) (string, string) {
	switch {
	case has(b, 8, "WAVE"):
		return "WAVE audio", Audio
	case has(b, 8, "AVI "):
		return "AVI video", Video
	case has(b, 8, "WEBP"):
		return "WebP image", Image
	case has(b, 8, "RMID"):
		return "MIDI audio", Audio
	case has(b, 8, "CDXA"):
		return "MPEG video (CD-XA)", Video
	}
	return "RIFF data", Other
}

// ogg names an Ogg stream by the codec header in its first page (27-byte
// page header, a one-byte segment table for a first page, then the packet).
func ogg(b []byte) (string, string) {
	switch {
	case has(b, 28, "\x01vorbis"):
		return "Ogg Vorbis audio", Audio
	case has(b, 28, "OpusHead"):
		return "Ogg Opus audio", Audio
	case has(b, 28, "\x7fFLAC"):
		return "Ogg FLAC audio", Audio
	case has(b, 28, "Speex"):
		return "Ogg Speex audio", Audio
	case has(b, 28, "\x80theora"):
		return "Ogg Theora video", Video
	}
	return "Ogg data", Audio
}

// isoMedia names an ISO base media file by its major brand (offset 8).
func isoMedia(b []byte) (string, string) {
	switch {
	case has(b, 8, "M4A "), has(b, 8, "M4B "), has(b, 8, "M4P "):
		return "MPEG-4 audio (M4A)", Audio
	case has(b, 8, "qt  "):
		return "QuickTime video", Video
	case has(b, 8, "3gp"), has(b, 8, "3g2"):
		return "3GPP video", Video
	case has(b, 8, "heic"), has(b, 8, "heix"), has(b, 8, "mif1"):
		return "HEIF image", Image
	case has(b, 8, "avif"):
		return "AVIF image", Image
	}
	return "MP4/QuickTime video", Video
}

// isBMP checks "BM", the reserved words at 6-9 and the DIB header size at 14
// (one of the sizes Windows and OS/2 defined).
func isBMP(b []byte) bool {
	if !has(b, 0, "BM") || len(b) < 18 || !has(b, 6, "\x00\x00\x00\x00") {
		return false
	}
	switch binary.LittleEndian.Uint32(b[14:]) {
	case 12, 16, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// isSWF checks the header after the signature: a version byte (1..50 so
// far) and the uncompressed length (LE32), which covers at least the header
// and, for files anyone sends, stays below 128 MiB.
func isSWF(b []byte) bool {
	if len(b) < 8 || b[3] == 0 || b[3] > 50 {
		return false
	}
	n := binary.LittleEndian.Uint32(b[4:])
	return n >= 8 && n < 128<<20
}

// isICO checks the ICONDIR header: reserved 0, type 1, 1..255 images, and
// the first entry's reserved byte 0 and colour planes 0 or 1.
func isICO(b []byte) bool {
	if !has(b, 0, "\x00\x00\x01\x00") || len(b) < 22 {
		return false
	}
	n := binary.LittleEndian.Uint16(b[4:])
	return n > 0 && n < 256 && b[9] == 0 && b[11] == 0 && b[10] <= 1
}

// mpegAudio checks an MPEG audio frame header at offset 0: 11 sync bits,
// version not reserved (bits 4-3 != 01), layer not reserved (bits 2-1 !=
// 00, which would be AAC ADTS), bitrate index not 1111, sample rate not 11.
// ADTS (layer 00) is reported as AAC.
func mpegAudio(b []byte) (string, bool) {
	if len(b) < 4 || b[0] != 0xff || b[1]&0xe0 != 0xe0 {
		return "", false
	}
	version, layer := (b[1]>>3)&3, (b[1]>>1)&3
	if layer == 0 {
		// ADTS: MPEG-4/2 AAC, version bit then layer 00, sampling index < 13.
		if b[1]&0xf6 == 0xf0 && (b[2]>>2)&0xf < 13 {
			return "AAC audio (ADTS)", true
		}
		return "", false
	}
	if version == 1 || b[2]>>4 == 0xf || (b[2]>>2)&3 == 3 {
		return "", false
	}
	if layer == 1 {
		return "MP3 audio", true
	}
	return "MPEG audio", true
}

// text names content with no control characters other than white space (and
// ESC, used by terminal art and some printers), or "data". Recognised kinds
// of text come first: scripts, markup.
func text(b []byte) (string, string) {
	body := b
	bom := has(b, 0, "\xef\xbb\xbf")
	if bom {
		body = b[3:]
	}
	ascii := true
	for _, c := range body {
		switch {
		case c >= 0x80:
			ascii = false
		case c >= 0x20 && c < 0x7f, c == '\t', c == '\n', c == '\r', c == '\f', c == '\v', c == 0x1b:
		default:
			return "data", Other
		}
	}
	if d, t, ok := textKind(body); ok {
		return d, t
	}
	switch {
	case bom:
		return "UTF-8 Unicode (with BOM) text", Document
	case ascii:
		return "ASCII text", Document
	case utf8.Valid(trimPartialRune(body)):
		return "UTF-8 Unicode text", Document
	}
	return "ISO-8859 text", Document
}

// trimPartialRune drops a UTF-8 sequence cut off by the end of the head.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// textKind recognises scripts and markup at the start of text.
func textKind(b []byte) (string, string, bool) {
	if has(b, 0, "#!") {
		return interpreter(b[2:]), Script, true
	}
	if hasFold(b, 0, "<?php") {
		return "PHP script", Script, true
	}
	if hasFold(b, 0, "@echo off") {
		return "DOS batch file", Script, true
	}
	if has(b, 0, "REGEDIT4") || has(b, 0, "Windows Registry Editor") {
		return "Windows registry file", Script, true
	}
	// Markup may follow white space.
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	switch {
	case hasFold(b, i, "<!doctype html"), hasFold(b, i, "<html"), hasFold(b, i, "<head"):
		return "HTML document", Document, true
	case hasFold(b, i, "<svg"):
		return "SVG image", Image, true
	case hasFold(b, i, "<?xml"):
		if contains(b, "<svg") {
			return "SVG image", Image, true
		}
		return "XML document", Document, true
	}
	return "", "", false
}

// interpreter names a "#!" script by the base name of its interpreter (or
// of the program "env" runs).
func interpreter(b []byte) string {
	rest := trimLeft(b)
	name := word(rest)
	if string(base(name)) == "env" {
		rest = trimLeft(rest[len(name):])
		name = word(rest)
		for len(name) > 0 && name[0] == '-' { // env -S, env -i
			rest = trimLeft(rest[len(name):])
			name = word(rest)
		}
	}
	n := base(name)
	switch {
	case oneOf(n, "sh", "bash", "dash", "ksh", "zsh", "csh", "tcsh", "ash"):
		return "shell script"
	case hasName(n, "python"):
		return "Python script"
	case hasName(n, "perl"):
		return "Perl script"
	case hasName(n, "ruby"):
		return "Ruby script"
	case hasName(n, "php"):
		return "PHP script"
	case oneOf(n, "node", "nodejs"):
		return "Node.js script"
	case hasName(n, "lua"):
		return "Lua script"
	case oneOf(n, "awk", "gawk"):
		return "awk script"
	}
	return "script"
}

// oneOf reports whether n equals one of names.
func oneOf(n []byte, names ...string) bool {
	for _, s := range names {
		if string(n) == s {
			return true
		}
	}
	return false
}

// trimLeft drops leading blanks.
func trimLeft(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// word returns the first blank-separated word of b's first line.
func word(b []byte) []byte {
	b = trimLeft(b)
	for i, c := range b {
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			return b[:i]
		}
	}
	return b
}

// base returns the part of a path after its last '/'.
func base(p []byte) []byte {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// hasName reports whether n is prog optionally followed by a version
// ("python3", "python2.7", "perl5").
func hasName(n []byte, prog string) bool {
	if len(n) < len(prog) || string(n[:len(prog)]) != prog {
		return false
	}
	for i := len(prog); i < len(n); i++ {
		if (n[i] < '0' || n[i] > '9') && n[i] != '.' {
			return false
		}
	}
	return true
}
