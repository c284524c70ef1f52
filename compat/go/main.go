// gopeer: a tiny RocketMQ Go-client driver for the compat scenarios.
//
//	gopeer produce -n 127.0.0.1:9876 -t Topic -c 100 [-g group] [-prefix p]
//	gopeer consume -n 127.0.0.1:9876 -t Topic -g group -c 100 [-timeout 60] [-prefix p]
//
// -ak KEY -sk SECRET (both commands) sign every request, name-server ones included, with the
// client's ACL interceptor (WithCredentials: AccessKey and Signature ext fields).
//
// Output lines match the Java drivers: "SENT n" and "RECEIVED n".
// The exit status is non-zero when fewer than -c messages were sent/received.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	rocketmq "github.com/apache/rocketmq-client-go/v2"
	"github.com/apache/rocketmq-client-go/v2/consumer"
	"github.com/apache/rocketmq-client-go/v2/primitive"
	"github.com/apache/rocketmq-client-go/v2/producer"
	"github.com/apache/rocketmq-client-go/v2/rlog"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gopeer produce|consume -n addr -t topic [-g group] [-c count] [-timeout sec] [-prefix p] [-ak key -sk secret]")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd := os.Args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	addr := fs.String("n", "127.0.0.1:9876", "namesrv address list, ';' separated")
	topic := fs.String("t", "", "topic")
	group := fs.String("g", "", "producer/consumer group")
	count := fs.Int("c", 100, "number of messages")
	timeout := fs.Int("timeout", 60, "seconds to wait (consume) / overall (produce)")
	prefix := fs.String("prefix", "compat-go", "message body prefix")
	logLevel := fs.String("log", "error", "client log level")
	ak := fs.String("ak", "", "access key: sign requests (WithCredentials)")
	sk := fs.String("sk", "", "secret key for -ak")
	_ = fs.Parse(os.Args[2:])
	if *topic == "" {
		usage()
	}
	rlog.SetLogLevel(*logLevel)
	addrs := strings.Split(*addr, ";")
	creds := primitive.Credentials{AccessKey: *ak, SecretKey: *sk}

	switch cmd {
	case "produce":
		if *group == "" {
			*group = "compat_go_producer"
		}
		os.Exit(produce(addrs, creds, *topic, *group, *count, *timeout, *prefix))
	case "consume":
		if *group == "" {
			*group = "compat_go_consumer"
		}
		os.Exit(consume(addrs, creds, *topic, *group, *count, *timeout, *prefix))
	default:
		usage()
	}
}

func produce(addrs []string, creds primitive.Credentials, topic, group string, n, timeoutSec int, prefix string) int {
	opts := []producer.Option{
		producer.WithNsResolver(primitive.NewPassthroughResolver(addrs)),
		producer.WithGroupName(group),
		producer.WithRetry(2),
		producer.WithSendMsgTimeout(5 * time.Second),
	}
	if !creds.IsEmpty() {
		opts = append(opts, producer.WithCredentials(creds))
	}
	p, err := rocketmq.NewProducer(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "new producer:", err)
		fmt.Println("SENT 0")
		return 1
	}
	if err := p.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start producer:", err)
		fmt.Println("SENT 0")
		return 1
	}
	defer p.Shutdown()
	deadline := time.Now().Add(time.Duration(timeoutSec) * time.Second)
	sent := 0
	for i := 0; i < n && time.Now().Before(deadline); i++ {
		msg := primitive.NewMessage(topic, []byte(fmt.Sprintf("%s-%d", prefix, i)))
		msg.WithKeys([]string{fmt.Sprintf("%s-%d", prefix, i)})
		res, err := p.SendSync(context.Background(), msg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "send %d: %v\n", i, err)
			continue
		}
		if res.Status != primitive.SendOK {
			fmt.Fprintf(os.Stderr, "send %d: status %v\n", i, res.Status)
			continue
		}
		sent++
	}
	fmt.Printf("SENT %d\n", sent)
	if sent < n {
		return 1
	}
	return 0
}

func consume(addrs []string, creds primitive.Credentials, topic, group string, n, timeoutSec int, prefix string) int {
	opts := []consumer.Option{
		consumer.WithNsResolver(primitive.NewPassthroughResolver(addrs)),
		consumer.WithGroupName(group),
		consumer.WithConsumeFromWhere(consumer.ConsumeFromFirstOffset),
	}
	if !creds.IsEmpty() {
		opts = append(opts, consumer.WithCredentials(creds))
	}
	c, err := rocketmq.NewPushConsumer(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "new consumer:", err)
		fmt.Println("RECEIVED 0")
		return 1
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	done := make(chan struct{})
	var once sync.Once
	err = c.Subscribe(topic, consumer.MessageSelector{}, func(ctx context.Context, msgs ...*primitive.MessageExt) (consumer.ConsumeResult, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			b := string(m.Body)
			if strings.HasPrefix(b, prefix+"-") {
				seen[b] = true
			}
		}
		if len(seen) >= n {
			once.Do(func() { close(done) })
		}
		return consumer.ConsumeSuccess, nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "subscribe:", err)
		fmt.Println("RECEIVED 0")
		return 1
	}
	if err := c.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start consumer:", err)
		fmt.Println("RECEIVED 0")
		return 1
	}
	select {
	case <-done:
	case <-time.After(time.Duration(timeoutSec) * time.Second):
	}
	mu.Lock()
	got := len(seen)
	mu.Unlock()
	_ = c.Shutdown()
	fmt.Printf("RECEIVED %d\n", got)
	if got < n {
		return 1
	}
	return 0
}
