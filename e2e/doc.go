// Package e2e drives the example server's demo page in headless Chromium.
// It is its own module so that the browser driver never enters the
// library's go.mod. Run it with
//
//	cd e2e && go test ./...
//
// It needs Debian's chromium package (/usr/bin/chromium) and skips without
// it; CI installs it.
package e2e
