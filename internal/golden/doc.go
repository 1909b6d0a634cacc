// Package golden compares test output with files under testdata, as
// go/printer's tests do.
//
// Golden files hold the records a test produces (JSON Lines, sorted and free
// of wall-clock values) so that a change of output shows as a diff in
// review. Run the tests with -update to rewrite them; the rewrite is then a
// reviewed change like any other.
package golden
