// Package tenantheader is an OpenTelemetry Collector extension that hands the tenant a batch arrived
// with on to the backend: it copies one header (X-Scope-OrgID by default) from the request's client
// metadata onto the exporter's outgoing HTTP requests, as Tempo's multi-tenancy expects.
//
//	receivers:  { otlp: { protocols: { http: { include_metadata: true } } } }
//	extensions: { tenant_header: { header: X-Scope-OrgID } }
//	exporters:  { otlp_http: { middlewares: [{ id: tenant_header }],
//	              sending_queue: { batch: { partition: { metadata_keys: [X-Scope-OrgID] } } } } }
//
// The receiver keeps the header as client metadata only with include_metadata; the exporter's queue
// keeps it across a restart (the persistent queue stores client metadata with each request) and its
// batcher must partition by it, or batches of two tenants would merge under one header. A batch that
// arrived without the header is refused, never sent untagged.
package tenantheader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
)

// Config names the header to copy; it is both the client metadata key and the outgoing header.
type Config struct {
	Header string `mapstructure:"header"`
}

// Validate refuses an empty header name, which would silently send every tenant's data untagged.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.Header) == "" {
		return errors.New("header must not be empty")
	}
	return nil
}

// NewFactory is what the ocb-generated collector registers.
func NewFactory() extension.Factory {
	return extension.NewFactory(
		component.MustNewType("tenant_header"),
		func() component.Config { return &Config{Header: "X-Scope-OrgID"} },
		func(_ context.Context, _ extension.Settings, cfg component.Config) (extension.Extension, error) {
			return &tenantHeader{header: cfg.(*Config).Header}, nil
		},
		component.StabilityLevelDevelopment,
	)
}

type tenantHeader struct {
	component.StartFunc
	component.ShutdownFunc
	header string
}

var _ extensionmiddleware.HTTPClient = (*tenantHeader)(nil)

func (t *tenantHeader) GetHTTPRoundTripper(context.Context) (extensionmiddleware.WrapHTTPRoundTripperFunc, error) {
	return func(_ context.Context, base http.RoundTripper) (http.RoundTripper, error) {
		return &roundTripper{base: base, header: t.header}, nil
	}, nil
}

type roundTripper struct {
	base   http.RoundTripper
	header string
}

// RoundTrip sets the header from the metadata of the request's context. A batch that arrived without
// one is answered 400 here, without being sent: filing it under a guessed tenant would leak it, and
// Tempo answers "no org id" with a 503, which the exporter would retry for as long as it retries.
// A 400 is final: the exporter drops the batch and logs this message.
func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	values := client.FromContext(req.Context()).Metadata.Get(rt.header)
	if len(values) == 0 || values[0] == "" {
		message := fmt.Sprintf("the batch arrived without %s; its sender must name its tenant", rt.header)
		return &http.Response{
			Status:     "400 Bad Request",
			StatusCode: http.StatusBadRequest,
			Proto:      "HTTP/1.1",
			ProtoMajor: 1,
			ProtoMinor: 1,
			Header:     http.Header{"Content-Type": {"text/plain"}},
			Body:       io.NopCloser(strings.NewReader(message)),
			Request:    req,
		}, nil
	}
	req = req.Clone(req.Context())
	req.Header.Set(rt.header, values[0])
	return rt.base.RoundTrip(req)
}
