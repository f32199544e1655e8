module github.com/esphttpd/esphttpd/examples/wsinterop

go 1.26.0

require (
	github.com/esphttpd/esphttpd v0.0.0
	github.com/gorilla/websocket v1.5.3
)

require (
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/esphttpd/esphttpd => ../..
