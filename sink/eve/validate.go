package eve

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/peerwatch/peerwatch/event"
)

// ErrInvalid is returned by Validate for a line that does not conform.
var ErrInvalid = errors.New("eve: record does not conform to the schema")

//go:embed schema/suricata-schema.json schema/peerwatch.schema.json
var schemaFS embed.FS

// Schema locations. The URLs are identifiers only: nothing is fetched.
const (
	peerwatchSchemaURL = "https://github.com/peerwatch/peerwatch/sink/eve/schema/peerwatch.schema.json"
	suricataSchemaURL  = "https://github.com/peerwatch/peerwatch/sink/eve/schema/suricata-schema.json"
	combinedSchemaURL  = "https://github.com/peerwatch/peerwatch/sink/eve/schema/combined.json"
)

// engineObjects are Suricata's objects that peerwatch writes in Suricata's
// own shape: they stay exactly as Suricata's schema describes them.
var engineObjects = map[string]bool{
	event.TypeFlow: true, event.TypeAnomaly: true, event.TypeFileinfo: true,
	event.TypeAlert: true, event.TypeStats: true,
}

// engineTypes are the event types that are not protocol records.
var engineTypes = map[string]bool{
	event.TypeFlow: true, event.TypeAnomaly: true, event.TypeFileinfo: true,
	event.TypeAlert: true, event.TypeStats: true, event.TypePeerwatchStats: true,
}

type schemas struct {
	record *jsonschema.Schema // Suricata's schema extended with ours
	app    *jsonschema.Schema // our generic app-layer object
	known  map[string]bool    // top-level keys the combined schema names
}

var loadSchemas = sync.OnceValues(func() (*schemas, error) {
	ours, err := readSchema("schema/peerwatch.schema.json")
	if err != nil {
		return nil, err
	}
	suri, err := readSchema("schema/suricata-schema.json")
	if err != nil {
		return nil, err
	}
	combined, known, err := extend(suri)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	for url, doc := range map[string]any{peerwatchSchemaURL: ours, combinedSchemaURL: combined} {
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("eve: schema %s: %w", url, err)
		}
	}
	s := &schemas{known: known}
	if s.record, err = c.Compile(combinedSchemaURL); err != nil {
		return nil, fmt.Errorf("eve: compile combined schema: %w", err)
	}
	if s.app, err = c.Compile(peerwatchSchemaURL + "#/$defs/app"); err != nil {
		return nil, fmt.Errorf("eve: compile app schema: %w", err)
	}
	return s, nil
})

func readSchema(name string) (map[string]any, error) {
	b, err := schemaFS.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("eve: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("eve: %s: %w", name, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("eve: %s: not a JSON object", name)
	}
	return m, nil
}

// extend turns Suricata's schema into the combined one. It only adds:
//   - "peerwatch" and "peerwatch_stats" as top-level properties;
//   - our app-layer object shape for any other top-level key, where
//     Suricata has additionalProperties false (it rejects "oscar");
//   - an optional "event" key in Suricata's objects other than the engine
//     objects, for a protocol of ours that shares Suricata's name ("http",
//     "template"): its fields must then be Suricata's too;
//   - the rule that an engine record carries the object its type names.
//
// It returns the combined schema and the set of top-level keys it names.
func extend(suri map[string]any) (map[string]any, map[string]bool, error) {
	props, ok := suri["properties"].(map[string]any)
	if !ok {
		return nil, nil, errors.New("eve: suricata schema has no properties")
	}
	if _, ok := suri["allOf"]; ok {
		return nil, nil, errors.New("eve: suricata schema has a top-level allOf; extend must merge it")
	}
	out := maps.Clone(suri)
	newProps := make(map[string]any, len(props)+2)
	known := make(map[string]bool, len(props)+2)
	for name, p := range props {
		known[name] = true
		obj, ok := p.(map[string]any)
		sub, hasProps := obj["properties"].(map[string]any)
		if !ok || !hasProps || obj["type"] != "object" || engineObjects[name] {
			newProps[name] = p
			continue
		}
		if _, clash := sub["event"]; clash {
			newProps[name] = p // Suricata defines "event" itself: keep its meaning
			continue
		}
		obj = maps.Clone(obj)
		sub = maps.Clone(sub)
		sub["event"] = map[string]any{"$ref": peerwatchSchemaURL + "#/$defs/kind"}
		obj["properties"] = sub
		newProps[name] = obj
	}
	for _, name := range []string{"peerwatch", event.TypePeerwatchStats} {
		if _, clash := props[name]; clash {
			return nil, nil, fmt.Errorf("eve: suricata schema already defines %q", name)
		}
		newProps[name] = map[string]any{"$ref": peerwatchSchemaURL + "#/$defs/" + name}
		known[name] = true
	}
	out["properties"] = newProps
	out["additionalProperties"] = map[string]any{"$ref": peerwatchSchemaURL + "#/$defs/app"}
	out["allOf"] = []any{map[string]any{"$ref": peerwatchSchemaURL + "#/$defs/record_objects"}}
	out["$id"] = combinedSchemaURL
	return out, known, nil
}

// Validate checks one EVE line (with or without its newline) against
// Suricata's EVE schema extended with peerwatch's keys
// (schema/peerwatch.schema.json), and checks that a protocol record
// carries exactly one app-layer object, named by its event_type, with an
// "event" from the Kind list. Errors wrap ErrInvalid. It is meant for
// tests: the schemas are compiled on first use, which takes a while.
func Validate(line []byte) error {
	s, err := loadSchemas()
	if err != nil {
		return err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	if bytes.IndexByte(line, '\n') >= 0 {
		return fmt.Errorf("%w: more than one line", ErrInvalid)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := s.record.Validate(v); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	rec := v.(map[string]any) // the schema requires an object
	typ, _ := rec["event_type"].(string)
	if engineTypes[typ] {
		for k := range rec {
			if !s.known[k] {
				return fmt.Errorf("%w: %s record with app-layer object %q", ErrInvalid, typ, k)
			}
		}
		return nil
	}
	obj, ok := rec[typ]
	if !ok {
		return fmt.Errorf("%w: protocol record %q lacks its %q object", ErrInvalid, typ, typ)
	}
	if err := s.app.Validate(obj); err != nil {
		return fmt.Errorf("%w: %q object: %v", ErrInvalid, typ, err)
	}
	for k := range rec {
		if k != typ && !s.known[k] {
			return fmt.Errorf("%w: %q record with a second app-layer object %q", ErrInvalid, typ, k)
		}
	}
	return nil
}
