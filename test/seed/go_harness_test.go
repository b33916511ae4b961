package main

// Drives the seed's Go client, unchanged (it is compiled beside this file as main.go), against the
// Streamgate URL in STREAMGATE_WS_URL and prints what it saw as one JSON line prefixed with RESULT.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func waitFor(cond func() bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

func TestSeedGoClient(t *testing.T) {
	var logs lockedBuffer
	var mu sync.Mutex
	seen := map[string]interface{}{}
	errs := []string{}
	offers := []map[string]interface{}{}
	stats := []map[string]interface{}{}

	client := NewWebRTCClient(os.Getenv("STREAMGATE_WS_URL"), "")
	client.logger = log.New(&logs, "", 0)
	client.OnError = func(err error) { mu.Lock(); errs = append(errs, err.Error()); mu.Unlock() }
	client.OnOffer = func(o map[string]interface{}) { mu.Lock(); offers = append(offers, o); mu.Unlock() }
	client.OnStats = func(s map[string]interface{}) { mu.Lock(); stats = append(stats, s); mu.Unlock() }
	count := func(n *int, f func() int) func() bool { return func() bool { mu.Lock(); defer mu.Unlock(); *n = f(); return *n > 0 } }

	if err := client.ConnectWithRetry(context.Background()); err != nil {
		t.Fatalf("connect: %v", err)
	}
	seen["peer_id"] = client.peerID
	seen["welcomed"] = waitFor(func() bool { return strings.Contains(logs.String(), "Welcome message received") }, 10*time.Second)
	seen["heartbeat_interval_ms"] = client.heartbeatInterval.Milliseconds()
	client.SendPing()
	seen["ponged"] = waitFor(func() bool { return strings.Contains(logs.String(), "Pong received") }, 10*time.Second)
	var n int
	client.RequestStats()
	waitFor(count(&n, func() int { return len(stats) }), 10*time.Second)
	client.RequestOffer(nil)
	waitFor(func() bool { mu.Lock(); defer mu.Unlock(); return len(offers)+len(errs) > 0 }, 20*time.Second)
	client.sendMessage(SignalingMessage{Type: "no-such-type", PeerID: client.peerID, MessageID: client.generateMessageID(), Timestamp: time.Now().Unix()})
	waitFor(func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range errs {
			if strings.Contains(e, "UNKNOWN_MESSAGE_TYPE") {
				return true
			}
		}
		return false
	}, 10*time.Second)
	seen["still_connected"] = client.isConnected
	client.Disconnect()

	mu.Lock()
	seen["errors"] = errs
	seen["offers"] = offers
	seen["stats"] = stats
	mu.Unlock()
	seen["log"] = logs.String()
	out, _ := json.Marshal(seen)
	fmt.Println("RESULT " + string(out))
}
