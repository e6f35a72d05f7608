// A collector extension of our own, built into the collector by ocb (see ../manifest.yaml). The
// contrib headers_setter extension does this job elsewhere, but the module proxy here does not serve it.
module rumkit/deploy/collector/tenantheader

go 1.26.0

require (
	go.opentelemetry.io/collector/client v1.71.0
	go.opentelemetry.io/collector/component v1.71.0
	go.opentelemetry.io/collector/extension v1.71.0
	go.opentelemetry.io/collector/extension/extensionmiddleware v0.165.0
)
