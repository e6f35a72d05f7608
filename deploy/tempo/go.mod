// Builds Grafana Tempo from the Go module proxy: `go install` refuses Tempo because its
// go.mod has replace directives, so this module requires it and repeats them.
// Hand-written on purpose: it has no packages of its own, so `go mod tidy` would drop
// the requirement. Build (see e2e/stack/build.ts):
//
//	CGO_ENABLED=0 GOFLAGS=-mod=mod GONOSUMDB=github.com/grafana/tempo \
//	  go build -ldflags='-s -w' -o tempo github.com/grafana/tempo/cmd/tempo
module rumkit/deploy/tempo

go 1.24.3

// The newest Tempo the proxy serves here: main of 2025-05-29, the Tempo 2.8 line.
require github.com/grafana/tempo v1.5.1-0.20250529124718-87c2dc380cec

// Copied from Tempo's go.mod at that commit; replace directives only apply in the main module.
replace (
	k8s.io/api => k8s.io/api v0.25.0
	k8s.io/client-go => k8s.io/client-go v0.25.0
)

replace github.com/hashicorp/memberlist => github.com/grafana/memberlist v0.3.1-0.20220708130638-bd88e10a3d91
