// Package magic names the type of a transferred file from its first bytes and
// from its name, for the fileinfo records of every analyzer that sees a file
// (the EVE "magic" string and peerwatch.file_type).
//
// It sits under analyzer.File: the engine keeps the first HeadSize bytes of
// each transfer and calls Detect once; analyzers never call it themselves.
//
// # Detect
//
// Detect looks only at the first HeadSize (512) bytes, allocates nothing and
// returns constant strings: a human description in the style of libmagic
// ("PE32 executable (Windows)", "Zip archive", "JPEG image") and one class of
// the closed list Executable, Script, Archive, Document, Audio, Video, Image,
// Other. Signatures are the published magic numbers of each format (file
// format specifications, checked against file(1) on real samples listed in
// testdata/SOURCES.md). Where a magic number is short (BMP "BM", MPEG audio
// frame sync, ICO) more header fields are checked before a type is claimed,
// because a false "executable" or "audio" label is worse than "data".
// Bytes that match nothing are "text" (class Document) when they hold no
// control characters other than white space, else "data" (class Other).
// Zero bytes are "empty".
//
// # ExtClass and Mismatch
//
// ExtClass maps a file name's extension, as Windows would see it, to a class:
// the name is cut at the first NUL (C clients stop there), path components
// and trailing dots and spaces are dropped (Windows ignores them, so
// "a.exe. " runs as an .exe), and the extension is matched without regard to
// case. Unknown or missing extensions give "".
//
// Mismatch reports a name that lies about its content. It is true when:
//
//   - the content is Executable and the extension is known and is neither
//     Executable nor Script ("song.mp3" that is a PE file, "doc.pdf" that is
//     an ELF binary);
//   - the content is Script and the extension is an image, audio or video
//     one ("pic.jpg" that starts with "#!");
//   - the extension is an image, audio or video one and the content has a
//     known class of another family ("movie.avi" that is a Zip archive, a
//     classic P2P decoy); audio and video count as one family because
//     containers carry both (an .mp4 holding only sound, a .wma in ASF).
//
// Anything else is not a mismatch: content "data" (class Other) never
// contradicts a name, and document/archive overlaps (.docx is a Zip, .msi is
// OLE2) are normal.
package magic
