module github.com/esphttpd/esphttpd/examples/bench

go 1.26.0

require (
	github.com/coder/websocket v1.8.15
	github.com/esphttpd/esphttpd v0.0.0
	github.com/gorilla/websocket v1.5.3
	github.com/valyala/fasthttp v1.78.0
)

require (
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/molecule-man/go-brrr v1.3.1 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/esphttpd/esphttpd => ../..
