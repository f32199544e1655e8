// The page's behaviour: poll /uptime, switch LEDs through /led, echo over
// the WebSocket at /ws_echo and show the statistics the WebSocket at /
// pushes. Plain JavaScript, no build step.
"use strict";

function wsURL(path) {
	const scheme = location.protocol === "https:" ? "wss:" : "ws:";
	return scheme + "//" + location.host + path;
}

async function refreshUptime() {
	try {
		const resp = await fetch("/uptime");
		document.getElementById("uptime").textContent = (await resp.text()).trim();
	} catch (err) {
		document.getElementById("uptime").textContent = "error: " + err;
	}
}

async function setLED(event) {
	const box = event.target;
	const body = JSON.stringify({ led_num: Number(box.dataset.led), led_state: box.checked });
	const resp = await fetch("/led", {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body: body,
	});
	document.getElementById("led-status").textContent =
		"LED " + box.dataset.led + (box.checked ? " on" : " off") + ": " + resp.status;
}

function startEcho() {
	const ws = new WebSocket(wsURL("/ws_echo"));
	const output = document.getElementById("echo-output");
	ws.onmessage = (msg) => { output.textContent = msg.data; };
	ws.onclose = () => { output.textContent += " (closed)"; };
	const send = () => ws.send(document.getElementById("echo-input").value);
	document.getElementById("echo-send").onclick = send;
	ws.onopen = send; // one round trip as soon as it is up
}

function startStats() {
	const ws = new WebSocket(wsURL("/"));
	const out = document.getElementById("stats");
	ws.onmessage = (msg) => {
		out.textContent = JSON.stringify(JSON.parse(msg.data), null, 2);
	};
}

for (const box of document.querySelectorAll("input[data-led]")) {
	box.addEventListener("change", setLED);
}
refreshUptime();
setInterval(refreshUptime, 1000);
startEcho();
startStats();
