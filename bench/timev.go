package main

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Errors of the /usr/bin/time -v parser.
var (
	ErrTimeMissing = errors.New("bench: /usr/bin/time -v output lacks a field")
	ErrTimeValue   = errors.New("bench: bad value in /usr/bin/time -v output")
)

// Usage is what GNU time -v reports about one finished command.
type Usage struct {
	User    float64       // user CPU seconds
	Sys     float64       // system CPU seconds
	MaxRSS  int64         // peak resident set size, KiB
	Wall    time.Duration // elapsed wall-clock time
	Exit    int           // exit status of the command
	HasExit bool          // whether the exit status line was present
}

// CPU returns user plus system CPU seconds.
func (u Usage) CPU() float64 { return u.User + u.Sys }

// parseTimeV reads the report GNU time -v writes to stderr after the
// command's own stderr. Lines it does not know are ignored; the user, system
// and maximum RSS lines are required.
func parseTimeV(text string) (Usage, error) {
	var u Usage
	var seen [3]bool
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, val, ok := cutLast(line, ": ")
		if !ok {
			continue
		}
		var err error
		switch key {
		case "User time (seconds)":
			u.User, err = strconv.ParseFloat(val, 64)
			seen[0] = true
		case "System time (seconds)":
			u.Sys, err = strconv.ParseFloat(val, 64)
			seen[1] = true
		case "Maximum resident set size (kbytes)":
			u.MaxRSS, err = strconv.ParseInt(val, 10, 64)
			seen[2] = true
		case "Elapsed (wall clock) time (h:mm:ss or m:ss)":
			u.Wall, err = parseClock(val)
		case "Exit status":
			u.Exit, err = strconv.Atoi(val)
			u.HasExit = true
		default:
			continue
		}
		if err != nil {
			return Usage{}, fmt.Errorf("%w: %s: %q", ErrTimeValue, key, val)
		}
	}
	if err := sc.Err(); err != nil {
		return Usage{}, fmt.Errorf("bench: reading time output: %w", err)
	}
	names := [3]string{"User time", "System time", "Maximum resident set size"}
	for i, ok := range seen {
		if !ok {
			return Usage{}, fmt.Errorf("%w: %s", ErrTimeMissing, names[i])
		}
	}
	if u.User < 0 || u.Sys < 0 || u.MaxRSS < 0 {
		return Usage{}, fmt.Errorf("%w: negative figure", ErrTimeValue)
	}
	return u, nil
}

// cutLast splits s around the last sep. The command line in "Command being
// timed" may itself hold ": ", the numeric value never does.
func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// parseClock reads time's "h:mm:ss" or "m:ss.cc" elapsed time.
func parseClock(s string) (time.Duration, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, ErrTimeValue
	}
	sec, err := strconv.ParseFloat(parts[len(parts)-1], 64)
	if err != nil || sec < 0 || sec >= 60 {
		return 0, ErrTimeValue
	}
	total := sec
	mult := 60.0
	for i := len(parts) - 2; i >= 0; i-- {
		n, err := strconv.Atoi(parts[i])
		if err != nil || n < 0 || n > 1<<20 {
			return 0, ErrTimeValue
		}
		total += float64(n) * mult
		mult *= 60
	}
	return time.Duration(total * float64(time.Second)), nil
}
