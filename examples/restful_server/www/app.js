// The front end of the RESTful server: plain JavaScript, no build step.
"use strict";

function show(id, text) {
  document.getElementById(id).textContent = text;
}

async function getJSON(url) {
  const resp = await fetch(url);
  if (!resp.ok) {
    throw new Error(resp.status + " " + (await resp.text()));
  }
  return resp.json();
}

async function loadSystemInfo() {
  try {
    const info = await getJSON("/api/v1/system/info");
    show("version", info.version);
    show("cores", String(info.cores));
  } catch (e) {
    show("version", "unavailable: " + e.message);
  }
}

async function pollTemperature() {
  try {
    const t = await getJSON("/api/v1/temp/raw");
    show("temp", String(t.raw));
  } catch (e) {
    show("temp", "unavailable: " + e.message);
  }
}

function color() {
  const value = (id) => Number(document.getElementById(id).value);
  return { red: value("red"), green: value("green"), blue: value("blue") };
}

function paintSwatch() {
  const c = color();
  document.getElementById("swatch").style.background = `rgb(${c.red}, ${c.green}, ${c.blue})`;
}

async function sendBrightness(event) {
  event.preventDefault();
  try {
    const resp = await fetch("/api/v1/light/brightness", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(color()),
    });
    show("result", await resp.text());
  } catch (e) {
    show("result", "failed: " + e.message);
  }
}

document.getElementById("light").addEventListener("submit", sendBrightness);
for (const id of ["red", "green", "blue"]) {
  document.getElementById(id).addEventListener("input", paintSwatch);
}
paintSwatch();
loadSystemInfo();
pollTemperature();
setInterval(pollTemperature, 2000);
