//go:build mage

// Backend build of the Sluice flows data source with Grafana's standard backend tooling: the
// targets of the plugin SDK's build package, run by mage (create-plugin's layout). The build
// tag keeps this file out of `go build/vet/test ./...`; only mage compiles it.
//
//	go tool mage -v build:linux   dist/gpx_sluice_flows_datasource_linux_amd64 + go_plugin_build_manifest
//	go tool mage -v               every platform Grafana runs on (build.BuildAll)
//	go tool mage -l               all targets
//
// mage is pinned as a tool in go.mod, so `go tool mage` needs no separate install. The SDK
// reads the executable name from src/plugin.json and the version from package.json, links
// statically with CGO off and strips symbols (-w -s); the manifest lists the sha256 of every
// .go file in this folder, which the plugin validator checks against the source.

// Backend build of the Sluice flows data source (Grafana plugin SDK build targets).
package main

import (
	"strings"
	"sync"

	//mage:import
	build "github.com/grafana/grafana-plugin-sdk-go/build"
	"github.com/magefile/mage/sh"
)

// Default builds every platform, the release set.
var Default = build.BuildAll

// userGoFlags is the GOFLAGS `go` would use here, read once (the SDK calls the callback for the
// binary and again for the manifest).
var userGoFlags = sync.OnceValues(func() (string, error) {
	return sh.Output("go", "env", "GOFLAGS")
})

func init() {
	// -trimpath keeps this machine's file paths out of the binary, as the Makefile's go build
	// did before mage. The SDK's Config carries
	// the environment of its `go build`; it is nil when only the manifest is written. GOFLAGS
	// set there replaces the user's (`go env -w GOFLAGS=...` included), so theirs is read from
	// `go env` and kept.
	if err := build.SetBeforeBuildCallback(func(cfg build.Config) (build.Config, error) {
		if cfg.Env == nil {
			cfg.Env = map[string]string{}
		}
		userFlags, err := userGoFlags()
		if err != nil {
			return cfg, err
		}
		cfg.Env["GOFLAGS"] = strings.TrimSpace(userFlags + " -trimpath")
		return cfg, nil
	}); err != nil {
		panic(err)
	}
}
