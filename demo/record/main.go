// Command record makes the demo recordings: it starts moto_server, builds a sample AWS
// estate through the SDK, and records the collectors' HTTP traffic on two "days" with
// changes in between (a bucket made public, RDP opened, an instance terminated, a new
// user, a volume deleted, key rotation enabled). Run from the repository root:
//
//	go run ./demo/record
//
// It rewrites demo/cassettes/day1.yaml and day2.yaml.
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	"github.com/vigilsec/vigil/demo"
	"github.com/vigilsec/vigil/providers"
)

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	moto := exec.Command("moto_server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	moto.Env = append(os.Environ(), "MOTO_EC2_LOAD_DEFAULT_AMIS=false")
	if err := moto.Start(); err != nil {
		return fmt.Errorf("start moto_server (pip install 'moto[server]'): %w", err)
	}
	defer moto.Process.Kill() //nolint:errcheck
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	for i := 0; ; i++ {
		if resp, err := http.Get(url + "/moto-api/"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 100 {
			return fmt.Errorf("moto_server did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}

	e, err := newEstate(ctx, url)
	if err != nil {
		return err
	}
	if err := e.day1(ctx); err != nil {
		return fmt.Errorf("build day 1: %w", err)
	}
	if err := recordDay(ctx, url, "day1"); err != nil {
		return err
	}
	if err := e.day2(ctx); err != nil {
		return fmt.Errorf("build day 2: %w", err)
	}
	return recordDay(ctx, url, "day2")
}

func recordDay(ctx context.Context, url, name string) error {
	path := "demo/cassettes/" + name
	os.Remove(path + ".yaml") //nolint:errcheck
	rec, err := recorder.New(path, recorder.WithMode(recorder.ModeRecordOnly), recorder.WithSkipRequestLatency(true),
		recorder.WithHook(func(i *cassette.Interaction) error {
			// Nothing secret goes in: moto's fake keys sign requests; drop signatures anyway.
			delete(i.Request.Headers, "Authorization")
			delete(i.Request.Headers, "X-Amz-Security-Token")
			return nil
		}, recorder.AfterCaptureHook))
	if err != nil {
		return err
	}
	prov, err := demo.ProviderOver(ctx, rec, url)
	if err != nil {
		return err
	}
	units, err := prov.Plan(ctx)
	if err != nil {
		return err
	}
	n := 0
	for _, u := range units {
		err := prov.Collect(ctx, u, func(context.Context, providers.Resource) error { n++; return nil })
		if err != nil {
			log.Printf("%s: unit %s failed: %v", name, u, err)
		}
	}
	if err := rec.Stop(); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	log.Printf("%s: %d units, %d documents recorded in %s.yaml", name, len(units), n, path)
	return nil
}

type estate struct {
	cfg  map[string]aws.Config
	ids  map[string]string
	iam  *iam.Client
	s3   *s3.Client
	ec2  map[string]*ec2.Client
	kms  *kms.Client
	keys []string
}

func newEstate(ctx context.Context, url string) (*estate, error) {
	e := &estate{cfg: map[string]aws.Config{}, ids: map[string]string{}, ec2: map[string]*ec2.Client{}}
	for _, r := range demo.Regions {
		cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(r), config.WithBaseEndpoint(url),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("testing", "testing", "")))
		if err != nil {
			return nil, err
		}
		e.cfg[r] = cfg
		e.ec2[r] = ec2.NewFromConfig(cfg)
	}
	home := e.cfg["us-east-1"]
	e.iam = iam.NewFromConfig(home)
	e.s3 = s3.NewFromConfig(home, func(o *s3.Options) { o.UsePathStyle = true })
	e.kms = kms.NewFromConfig(home)
	return e, nil
}
