// Package msnp analyzes MSN Messenger's MSNP protocol (versions 2 to 8 and
// later) on notification-server and switchboard connections, on any port.
//
// MSNP is line based: "CMD trid args\r\n", three upper-case letters or a
// three-digit error code; MSG (and a few later commands) end with a byte
// count followed by that many payload bytes, MIME headers and a body.
// Detection needs the first line's full shape: "VER n MSNPx..." on a
// notification server, "USR n passport cookie" or "ANS n passport cookie
// sessid" on a switchboard, so mail and FTP commands are never claimed.
//
// Events: login (passport, friendly name, client version from CVR,
// protocol, outcome with numeric errors such as 911), credential (the MD5
// seed and response of MSNP2-7, the Passport ticket of MSNP8 TWN logins,
// switchboard cookies of XFR, RNG, USR and ANS), presence (status, contacts,
// switchboard members joining and leaving, typing), message (text/plain
// chat: sender, recipients, length, font), exploit (the X-MMS-IM-Format
// font-name overflow, CVE-2002-1698), file and direct (text/x-msmsgsinvite
// invitations: file transfer, NetMeeting and application sharing, voice,
// webcam, remote assistance, whiteboard, games, with the addresses they
// disclose) and logout. XFR and RNG announce the next notification or
// switchboard connection, and an accepted file transfer its MSNFTP
// connection, so those flows are labelled with the user before their first
// byte.
//
// Sources: Microsoft Internet-Draft draft-movva-msn-messenger-protocol-00
// (1999); gaim 0.56 and 0.75 msn sources; nDPI's former msn.c; peerwatch's
// shared/specs/msnp.md.
package msnp
