package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/esphttpd/esphttpd/httpd"
	xws "golang.org/x/net/websocket"
)

// These tests check the page the way its script uses the server: the same
// requests, over HTTP/1.1 and over h2 with TLS, from real sockets. The
// browser module (examples/browser, TestZephyrSamplePage) runs the script
// itself in Chromium.

// pageClient returns a client for the example and its base URL: HTTP/1.1
// in clear, or h2 through TLS (ALPN).
func pageClient(t *testing.T, useTLS bool) (*http.Client, string, string) {
	h := startExample(t, useTLS)
	cl := newClient(t)
	if useTLS {
		return cl, "https://" + h.Addr().String(), "wss://" + h.Addr().String()
	}
	return cl, "http://" + h.Addr().String(), "ws://" + h.Addr().String()
}

// newClient returns a client that speaks HTTP/1.1 in clear and h2 through
// TLS (ALPN), trusting any certificate; its connections are closed when
// the test ends.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func fetch(t *testing.T, cl *http.Client, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body == "" {
		req.Body = nil
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// TestPageAndItsEndpoints loads the page and its script, then does what the
// script does: polls /uptime, sets LEDs, echoes over /ws_echo and reads the
// statistics the WebSocket at / pushes.
func TestPageAndItsEndpoints(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		cl, base, wsBase := pageClient(t, useTLS)
		wantProto := map[bool]int{false: 1, true: 2}[useTLS]

		resp, page := fetch(t, cl, "GET", base+"/", "")
		if resp.ProtoMajor != wantProto || !resp.Uncompressed || !strings.Contains(page, `<script src="main.js"></script>`) {
			t.Fatalf("TLS %v: page %s uncompressed=%v:\n%.200s", useTLS, resp.Proto, resp.Uncompressed, page)
		}
		for _, id := range []string{`id="uptime"`, `id="echo-output"`, `id="stats"`, `data-led="1"`} {
			if !strings.Contains(page, id) {
				t.Errorf("the page lacks %s", id)
			}
		}
		resp, script := fetch(t, cl, "GET", base+"/main.js", "")
		if resp.Header.Get("Content-Type") != "text/javascript" {
			t.Errorf("main.js: Content-Type %q", resp.Header.Get("Content-Type"))
		}
		for _, use := range []string{`fetch("/uptime")`, `fetch("/led"`, `wsURL("/ws_echo")`, `wsURL("/")`} {
			if !strings.Contains(script, use) {
				t.Errorf("main.js lacks %s", use)
			}
		}

		_, first := fetch(t, cl, "GET", base+"/uptime", "")
		_, second := fetch(t, cl, "GET", base+"/uptime", "")
		a, errA := strconv.ParseInt(first, 10, 64)
		b, errB := strconv.ParseInt(second, 10, 64)
		if errA != nil || errB != nil || b < a {
			t.Fatalf("uptime %q then %q", first, second)
		}

		for body, want := range map[string]int{
			`{"led_num":1,"led_state":true}`: 200, `{"led_num":7,"led_state":true}`: 400, `not json`: 400, `{"led_num":0}`: 400,
		} {
			if resp, _ := fetch(t, cl, "POST", base+"/led", body); resp.StatusCode != want {
				t.Errorf("POST /led %s: %d, want %d", body, resp.StatusCode, want)
			}
		}
		if resp, _ := fetch(t, cl, "GET", base+"/led", ""); resp.StatusCode != 405 {
			t.Errorf("GET /led: %d", resp.StatusCode)
		}

		origin := strings.Replace(base, "ws", "http", 1)
		cfg, _ := xws.NewConfig(wsBase+"/ws_echo", origin)
		cfg.TlsConfig = &tls.Config{InsecureSkipVerify: true}
		echo, err := xws.DialConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		echo.SetDeadline(time.Now().Add(5 * time.Second))
		xws.Message.Send(echo, "Hello, Server")
		var got string
		if err := xws.Message.Receive(echo, &got); err != nil || got != "Hello, Server" {
			t.Fatalf("ws_echo: %q %v", got, err)
		}
		echo.Close()

		cfg, _ = xws.NewConfig(wsBase+"/", origin)
		cfg.TlsConfig = &tls.Config{InsecureSkipVerify: true}
		statsWS, err := xws.DialConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		statsWS.SetDeadline(time.Now().Add(5 * time.Second))
		var st stats
		if err := xws.JSON.Receive(statsWS, &st); err != nil || st.Sent != 1 || st.Clients < 1 {
			t.Fatalf("statistics at /: %+v %v", st, err)
		}
		statsWS.Close()
	}
}

// TestDynamicMethods restates Zephyr's dynamic resource tests on /dynamic
// over HTTP/1.1 and h2: POST, PUT and PATCH echo and keep their body, GET
// answers it, DELETE forgets it.
func TestDynamicMethods(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		cl, base, _ := pageClient(t, useTLS)
		for _, method := range []string{"POST", "PUT", "PATCH"} {
			payload := "Test dynamic " + method
			if resp, body := fetch(t, cl, method, base+"/dynamic", payload); resp.StatusCode != 200 || body != payload {
				t.Fatalf("%s: %d %q", method, resp.StatusCode, body)
			}
			if _, body := fetch(t, cl, "GET", base+"/dynamic", ""); body != payload {
				t.Fatalf("GET after %s: %q", method, body)
			}
		}
		if resp, body := fetch(t, cl, "DELETE", base+"/dynamic", ""); resp.StatusCode != 200 || body != "" {
			t.Fatalf("DELETE: %d %q", resp.StatusCode, body)
		}
		if _, body := fetch(t, cl, "GET", base+"/dynamic", ""); body != "" {
			t.Fatalf("GET after DELETE: %q", body)
		}
		if resp, _ := fetch(t, cl, "OPTIONS", base+"/dynamic", ""); resp.StatusCode != 405 {
			t.Fatalf("OPTIONS: %d", resp.StatusCode)
		}
	}
}

// dialWS opens a WebSocket at path of the example; it is closed when the
// test ends.
func dialWS(t *testing.T, wsBase, base, path string) *xws.Conn {
	t.Helper()
	cfg, err := xws.NewConfig(wsBase+path, strings.Replace(base, "ws", "http", 1))
	if err != nil {
		t.Fatal(err)
	}
	cfg.TlsConfig = &tls.Config{InsecureSkipVerify: true}
	conn, err := xws.DialConfig(cfg)
	if err != nil {
		t.Fatalf("WebSocket %s: %v", path, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestWebSocketsOutliveRequestTimeouts keeps the page's two WebSockets
// open past the server's RecvWaitTimeout and SendWaitTimeout, which bound
// the handshake request, not the WebSocket it became: the statistics must
// keep coming and the echo must still answer, as they do on the device
// for as long as the page is shown. (They used to stop 5 s after the
// handshake: the connection kept the request's deadlines.)
func TestWebSocketsOutliveRequestTimeouts(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "ws", true: "wss"}[useTLS], func(t *testing.T) {
			t.Parallel() // each waits past the timeouts
			_, base, wsBase := pageClient(t, useTLS)
			echo := dialWS(t, wsBase, base, "/ws_echo")
			statsWS := dialWS(t, wsBase, base, "/")
			timeouts := httpd.ServiceConfig("127.0.0.1", 0, 1, 1)
			past := max(timeouts.RecvWaitTimeout, timeouts.SendWaitTimeout) + statsInterval
			statsWS.SetDeadline(time.Now().Add(past + 5*time.Second))
			// Updates come every statsInterval, the first at once.
			for want := 1; time.Duration(want-1)*statsInterval <= past; want++ {
				var st stats
				if err := xws.JSON.Receive(statsWS, &st); err != nil || st.Sent != want {
					t.Fatalf("statistics update %d: %+v %v", want, st, err)
				}
			}
			echo.SetDeadline(time.Now().Add(5 * time.Second))
			const msg = "still here"
			if err := xws.Message.Send(echo, msg); err != nil {
				t.Fatalf("ws_echo send after %v: %v", past, err)
			}
			var got string
			if err := xws.Message.Receive(echo, &got); err != nil || got != msg {
				t.Fatalf("ws_echo after %v: %q %v", past, got, err)
			}
		})
	}
}
