package socks

import (
	"github.com/peerwatch/peerwatch/classify"
	"github.com/peerwatch/peerwatch/flow"
)

// probe accepts a flow only when both sides have spoken SOCKS: the client's
// request and the proxy's answer (proxies.md §5: the signatures are too
// short to trust one side). It sees the client's bytes and the proxy's
// whichever direction it is called for, looks at no more than maxHandshake
// bytes of each and does not allocate.
func probe(in *classify.Input) classify.Result {
	if in.MidStream || in.UDP {
		return classify.NoMatch
	}
	cli, srv := in.Data, in.Other
	if in.Dir == flow.Resp {
		cli, srv = in.Other, in.Data
		if len(cli) == 0 {
			return classify.NoMatch // the proxy never speaks first
		}
	}
	cli, srv = cli[:min(len(cli), maxHandshake)], srv[:min(len(srv), maxHandshake)]
	if len(cli) == 0 {
		return classify.NeedMore
	}
	switch cli[0] {
	case 4:
		return probe4(cli, srv)
	case 5:
		return probe5(cli, srv)
	}
	return classify.NoMatch
}

// verdict turns a parser's answer into a probe result.
func verdict(ok bool, err error) classify.Result {
	switch {
	case err != nil:
		return classify.NoMatch
	case ok:
		return classify.Match
	}
	return classify.NeedMore
}

// probe4 wants a whole SOCKS4/4a request and an 8-byte reply.
func probe4(cli, srv []byte) classify.Result {
	_, ok, err := parseRequest4(cli)
	if r := verdict(ok, err); r != classify.Match {
		return r
	}
	_, ok, err = parseReply4(srv)
	return verdict(ok, err)
}

// probe5 wants the greeting and a method the client offered; then, for
// method 00, the request and the head of the reply (proxies.md §5: `05 xx`
// then `05 00 00 ATYP`); for method 02 the RFC 1929 exchange; for another
// method the start of its subnegotiation (version 01) on both sides. A
// refusal of every method (`05 FF`) ends the exchange and is accepted.
func probe5(cli, srv []byte) classify.Result {
	g, ok, err := parseGreeting(cli)
	if r := verdict(ok, err); r != classify.Match {
		return r
	}
	m, ok, err := parseChoice(srv)
	if r := verdict(ok, err); r != classify.Match {
		return r
	}
	cli, srv = cli[g.size:], srv[2:]
	switch {
	case m == methodNoneOK:
		if len(srv) > 0 {
			return classify.NoMatch
		}
		return classify.Match
	case !g.offered(m):
		return classify.NoMatch
	case m == methodNone:
		_, ok, err := parseMsg5(cli, false)
		if r := verdict(ok, err); r != classify.Match {
			return r
		}
		if len(srv) < 4 {
			_, _, err := parseMsg5(srv, true)
			return verdict(false, err)
		}
		_, _, err = parseMsg5(srv[:4], true)
		if err != nil {
			return classify.NoMatch
		}
		return classify.Match
	case m == methodUserPass:
		_, ok, err := parseUserPass(cli)
		if r := verdict(ok, err); r != classify.Match {
			return r
		}
		_, ok, err = parseAuthStatus(srv)
		return verdict(ok, err)
	}
	if len(cli) == 0 || len(srv) == 0 {
		return classify.NeedMore
	}
	if cli[0] == 1 && srv[0] == 1 {
		return classify.Match
	}
	return classify.NoMatch
}
