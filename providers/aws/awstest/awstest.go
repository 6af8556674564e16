// Package awstest runs moto_server, the moto project's AWS emulator, for tests of code
// that calls AWS through aws-sdk-go-v2. It is imported only from _test.go files.
//
// One moto_server process serves a whole test binary: the first call to Start launches
// it (sync.Once), later calls share it. The process is stopped when the test binary
// ends, in two ways: packages should call Main from their TestMain, which stops the
// server after m.Run; as a safety net on Linux the child gets SIGTERM from the kernel
// when the test binary dies (Pdeathsig), so a panic or a missing TestMain leaks nothing.
//
// moto keeps all state in one process: tests that share the server either use names
// (and regions) no other test uses, or call Reset and do not run in parallel. NewServer
// starts a private server for a test that needs an empty estate of its own.
//
// moto_server missing from PATH fails the test with the install command; it never
// skips, so a CI run without the emulator cannot pass unnoticed.
package awstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
)

// AccountID is the account moto_server always answers as.
const AccountID = "123456789012"

// InstallHint is the command that installs moto_server.
const InstallHint = "pip install 'moto[server]'"

// startTimeout bounds how long Start waits for moto_server to answer.
const startTimeout = 60 * time.Second

// Server is a running moto_server.
type Server struct {
	// URL is the server's base URL, e.g. "http://127.0.0.1:41234".
	URL string

	cmd  *exec.Cmd
	done chan struct{}
	stop sync.Once
}

// shared is the test binary's one server, started on first use by Start.
var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Start returns the test binary's shared moto_server, launching it on the first call.
// It fails tb when moto_server cannot be started.
func Start(tb testing.TB) *Server {
	tb.Helper()
	shared.once.Do(func() {
		shared.srv, shared.err = launch()
	})
	if shared.err != nil {
		tb.Fatalf("awstest: %v", shared.err)
	}
	return shared.srv
}

// NewServer starts a private moto_server for tb, stopped by tb.Cleanup. Use it when a
// test or benchmark needs an estate no other test touches.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	srv, err := launch()
	if err != nil {
		tb.Fatalf("awstest: %v", err)
	}
	tb.Cleanup(srv.Stop)
	return srv
}

// Main runs the package's tests and then stops the shared server. Call it from
// TestMain: func TestMain(m *testing.M) { awstest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Stop()
	}
	os.Exit(code)
}

// launch starts moto_server on a free port and waits until it answers.
func launch() (*Server, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server is not on PATH; install it with: %s", InstallHint)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "MOTO_EC2_LOAD_DEFAULT_AMIS=false")
	cmd.Stdout = nil // moto logs one line per request: drop it
	var stderr tailBuffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("moto_server on port %d: %w (stderr: %s)", port, err, stderr.String())
	}
	return s, nil
}

// waitReady polls the moto API until it answers, the process dies or startTimeout passes.
func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/moto-api/data.json", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return errors.New("exited before answering")
		case <-ctx.Done():
			return fmt.Errorf("no answer after %s", startTimeout)
		case <-tick.C:
		}
	}
}

// Stop terminates the server and waits for it to exit. It is idempotent.
func (s *Server) Stop() {
	s.stop.Do(func() {
		if s.cmd.Process == nil {
			return
		}
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

// Reset wipes all of moto's state (every service, every region). Tests that call it
// must not run in parallel with other tests of the same server.
func (s *Server) Reset(tb testing.TB) {
	tb.Helper()
	resp, err := http.Post(s.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		tb.Fatalf("awstest: reset moto: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("awstest: reset moto: HTTP %d", resp.StatusCode)
	}
}

// Config returns an aws.Config for region that talks to the server: static test
// credentials, the server as base endpoint, adaptive retries (5 attempts, short
// backoff). S3 and S3 Control clients also need S3Options / S3ControlOptions.
func (s *Server) Config(tb testing.TB, region string) aws.Config {
	tb.Helper()
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(s.URL),
		HTTPClient:   &http.Client{Timeout: 60 * time.Second},
		Retryer: func() aws.Retryer {
			return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
				o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
					so.MaxAttempts = 5
					so.MaxBackoff = 200 * time.Millisecond
				})
			})
		},
		RetryMaxAttempts: 5,
	}
}

// S3Options makes an S3 client address buckets by path, since "bucket.127.0.0.1"
// does not resolve.
func S3Options(o *s3.Options) { o.UsePathStyle = true }

// S3ControlOptions makes an S3 Control client call the base endpoint as is: the SDK
// otherwise prefixes the host with the account id ("123456789012.127.0.0.1"), which
// does not resolve. moto routes /v20180820/ paths to S3 Control.
func S3ControlOptions(o *s3control.Options) {
	if o.BaseEndpoint == nil {
		return
	}
	o.EndpointResolverV2 = fixedS3ControlEndpoint{raw: *o.BaseEndpoint}
}

type fixedS3ControlEndpoint struct{ raw string }

func (f fixedS3ControlEndpoint) ResolveEndpoint(context.Context, s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	u, err := url.Parse(f.raw)
	if err != nil {
		return smithyendpoints.Endpoint{}, fmt.Errorf("parse s3control endpoint %q: %w", f.raw, err)
	}
	return smithyendpoints.Endpoint{URI: *u}, nil
}

// freePort asks the kernel for a free TCP port on the loopback interface.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last few KiB written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
