// Package analyzer defines how a protocol plugs into peerwatch: the Spec a
// protocol registers from init, the Conn it implements per flow, and the
// Session through which it reports events, confirms its protocol, announces
// expected connections, hands tunnelled bytes back to the classifier and
// records file transfers.
//
// A Conn is called by one goroutine only (the worker that owns its flow), so
// analyzers take no locks. Everything an analyzer learns leaves through its
// Session; it never touches sinks or other flows directly.
package analyzer
