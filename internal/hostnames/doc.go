// Package hostnames maps host names to the IM and P2P services they belong
// to: the evidence a TLS SNI, a certificate name or a DNS name gives about
// an encrypted or not-yet-seen flow (confidence "hostname").
//
// The default list, services.txt, is embedded and documented in place;
// operators add their own with the same format (config hostnames_file).
// A pattern is an exact name ("login.icq.com") or a suffix ("*.icq.com",
// which matches icq.com itself and every name below it). The longest
// matching pattern wins. Lookups do not allocate.
package hostnames
