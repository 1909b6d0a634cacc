package eve_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/peerwatch/peerwatch/event"
	"github.com/peerwatch/peerwatch/sink/eve"
)

func ExampleAppend() {
	r := event.Record{
		Type:     "oscar",
		Time:     time.Date(2004, 3, 5, 14, 22, 7, 123456000, time.UTC),
		FlowID:   17,
		Src:      netip.MustParseAddrPort("192.168.1.5:1044"),
		Dst:      netip.MustParseAddrPort("64.12.24.50:5190"),
		Proto:    "TCP",
		AppProto: "oscar",
		App:      &event.App{Event: event.Login, Fields: map[string]any{"user": "alice"}},
		PW:       &event.Peerwatch{Service: "aim", Confidence: "confirmed"},
	}
	line := eve.Append(nil, &r)
	fmt.Println(string(line))
	fmt.Println(eve.Validate(line))
	// Output:
	// {"timestamp":"2004-03-05T14:22:07.123456+0000","flow_id":17,"event_type":"oscar","src_ip":"192.168.1.5","src_port":1044,"dest_ip":"64.12.24.50","dest_port":5190,"proto":"TCP","app_proto":"oscar","oscar":{"event":"login","user":"alice"},"peerwatch":{"service":"aim","confidence":"confirmed"}}
	// <nil>
}
