package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the report as one indented JSON document whose shape
// README.md documents (schema SchemaID). Strings are as stored, escaped
// by JSON only: a consumer that prints them must sanitise them itself.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
