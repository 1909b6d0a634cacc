package magic

// maxExt bounds the extensions looked up; longer ones are unknown.
const maxExt = 8

// extClasses maps lower-case file name extensions to the class a user (and
// Windows) expects behind them.
var extClasses = map[string]string{
	// Run when opened.
	"exe": Executable, "scr": Executable, "pif": Executable, "com": Executable,
	"dll": Executable, "sys": Executable, "cpl": Executable, "ocx": Executable,
	"drv": Executable, "msi": Executable, "msp": Executable, "lnk": Executable,
	"jar": Executable, "apk": Executable, "dex": Executable, "class": Executable,
	"elf": Executable, "so": Executable, "dylib": Executable, "app": Executable,
	"efi": Executable,
	// Run by an interpreter (or the shell's file association).
	"bat": Script, "cmd": Script, "vbs": Script, "vbe": Script, "js": Script,
	"jse": Script, "wsf": Script, "wsh": Script, "hta": Script, "ps1": Script,
	"psm1": Script, "sh": Script, "bash": Script, "pl": Script, "py": Script,
	"rb": Script, "php": Script, "reg": Script, "swf": Script, "inf": Script,
	"scf": Script, "url": Script, "chm": Script,
	// Containers and compressed data.
	"zip": Archive, "rar": Archive, "7z": Archive, "gz": Archive, "tgz": Archive,
	"bz2": Archive, "xz": Archive, "tar": Archive, "cab": Archive, "arj": Archive,
	"lzh": Archive, "lha": Archive, "ace": Archive, "iso": Archive, "dmg": Archive,
	"z": Archive, "zoo": Archive,
	// Documents.
	"doc": Document, "docx": Document, "docm": Document, "xls": Document,
	"xlsx": Document, "xlsm": Document, "ppt": Document, "pptx": Document,
	"pps": Document, "ppsx": Document, "pdf": Document, "rtf": Document,
	"txt": Document, "odt": Document, "ods": Document, "odp": Document,
	"htm": Document, "html": Document, "xml": Document, "csv": Document,
	"wri": Document, "ps": Document, "epub": Document, "nfo": Document,
	// Sound.
	"mp3": Audio, "wav": Audio, "ogg": Audio, "oga": Audio, "opus": Audio,
	"flac": Audio, "wma": Audio, "m4a": Audio, "aac": Audio, "mid": Audio,
	"midi": Audio, "ra": Audio, "aif": Audio, "aiff": Audio, "au": Audio,
	"mp2": Audio,
	// Moving pictures.
	"avi": Video, "mpg": Video, "mpeg": Video, "mp4": Video, "m4v": Video,
	"mov": Video, "qt": Video, "mkv": Video, "webm": Video, "wmv": Video,
	"asf": Video, "flv": Video, "rm": Video, "rmvb": Video, "3gp": Video,
	"ogv": Video, "vob": Video, "divx": Video, "ts": Video, "m2ts": Video,
	// Still pictures.
	"jpg": Image, "jpeg": Image, "jpe": Image, "png": Image, "gif": Image,
	"bmp": Image, "tif": Image, "tiff": Image, "ico": Image, "webp": Image,
	"psd": Image, "svg": Image, "heic": Image, "avif": Image,
}

// ExtClass returns the class a file name's extension claims, or "" when the
// name has no extension or an unknown one. The name is cut at its first NUL,
// only its last path component counts (either slash), and trailing dots and
// spaces are ignored as Windows ignores them. It never allocates.
func ExtClass(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			name = name[:i]
			break
		}
	}
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' || name[i] == '\\' {
			name = name[i+1:]
			break
		}
	}
	for len(name) > 0 && (name[len(name)-1] == '.' || name[len(name)-1] == ' ') {
		name = name[:len(name)-1]
	}
	dot := -1
	for i := len(name) - 1; i > 0; i-- { // i > 0: ".profile" has no extension
		if name[i] == '.' {
			dot = i
			break
		}
	}
	if dot < 0 || len(name)-dot-1 > maxExt {
		return ""
	}
	var buf [maxExt]byte
	ext := buf[:0]
	for i := dot + 1; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		ext = append(ext, c)
	}
	return extClasses[string(ext)]
}

// Mismatch reports whether the content class typ (from Detect) contradicts
// the extension of name, by the rules in the package documentation.
func Mismatch(name, typ string) bool {
	ext := ExtClass(name)
	if ext == "" || typ == "" || typ == Other {
		return false
	}
	switch typ {
	case Executable:
		return ext != Executable && ext != Script
	case Script:
		return media(ext)
	}
	return media(ext) && family(typ) != family(ext)
}

// media reports whether class c is a picture or sound/video class, whose
// files users open without expecting anything to run.
func media(c string) bool { return c == Image || c == Audio || c == Video }

// family merges audio and video, which share containers.
func family(c string) string {
	if c == Video {
		return Audio
	}
	return c
}
