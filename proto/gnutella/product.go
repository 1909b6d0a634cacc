package gnutella

import "bytes"

// products maps User-Agent/Server prefixes to product names (what users
// call the client; vendor codes from gtk-gnutella src/lib/vendors.c).
var products = []struct{ prefix, product string }{
	{"limewire", "LimeWire"},
	{"bearshare", "BearShare"},
	{"gtk-gnutella", "gtk-gnutella"},
	{"morpheus", "Morpheus"},
	{"gnucleus", "Gnucleus"},
	{"xolox", "Xolox"},
	{"shareaza", "Shareaza"},
	{"phex", "Phex"},
	{"mutella", "Mutella"},
	{"qtella", "Qtella"},
	{"gnotella", "Gnotella"},
	{"swapnut", "SwapNut"},
	{"toadnode", "ToadNode"},
	{"napshare", "NapShare"},
	{"frostwire", "FrostWire"},
	{"cabos", "Cabos"},
	{"acquisition", "Acquisition"},
	{"foxy", "Foxy"},
	{"wireshare", "WireShare"},
}

// vendors maps QueryHit/vendor-message codes to products.
var vendors = map[string]string{
	"BEAR": "BearShare", "GNUC": "Gnucleus", "GTKG": "gtk-gnutella", "LIME": "LimeWire", "MRPH": "Morpheus",
	"MMMM": "Morpheus", "MNAP": "MyNapster", "NAPS": "NapShare", "OCFG": "OpenCola", "PHEX": "Phex",
	"QTEL": "Qtella", "RAZA": "Shareaza", "SNUT": "SwapNut", "SWAP": "Swapper", "TOAD": "ToadNode",
	"XOLO": "Xolox", "GNUT": "Gnut", "GNOT": "Gnotella", "MUTE": "Mutella", "MACT": "Mactella",
	"HSLG": "Hagelslag", "GIFT": "giFT", "MESH": "iMesh", "ACQX": "Acquisition", "FSCP": "FileScope",
	"FOXY": "Foxy", "FRWL": "FrostWire",
}

// productOf names the client of a User-Agent or Server value; "" when
// unknown.
func productOf(ua []byte) string {
	for _, p := range products {
		if len(ua) >= len(p.prefix) && bytes.EqualFold(ua[:len(p.prefix)], []byte(p.prefix)) {
			return p.product
		}
	}
	return ""
}
