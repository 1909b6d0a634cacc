// Command peerwatch finds Instant Messaging and peer-to-peer use in network
// traffic.
//
// main parses the command line (kong), loads the configuration, opens the
// sinks and calls the pipeline; nothing else lives here. Subcommands:
// analyze (capture files to eve.json and peerwatch.db), protocols (the
// registry) and version.
package main
