/* trajet demo page, street parking: the street zones drawn in colour by their chance of a free
   space at the chosen time, the search route of a car itinerary, and in every car-park or zone
   popup a chart of the forecast over the chosen day (expected free spaces with an 80 % band, the
   chosen time marked). app.js (loaded first) calls its hooks: "ready" (window.trajet holds
   its map and helpers) and "draw" for each drawn itinerary (null when cleared). */
(function () {
  "use strict";

  const API = "/api/v1";
  const zones = { layer: null, route: null, seq: 0 };

  const chanceText = (p) => window.trajet.chanceText(p);

  function colour(p) {
    if (p === null || p === undefined) return "#8c8c8c";
    if (p >= 0.7) return "#2e9d48";
    if (p >= 0.3) return "#e69b00";
    return "#d0342c";
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;",
      '"': "&quot;", "'": "&#39;" }[c]));
  }

  function minutes(s) { return `${Math.max(1, Math.round(s / 60))} min`; }

  function zonePopup(p) {
    const spaces = `${p.capacity} space${p.capacity === 1 ? "" : "s"}` +
      (p.capacity_estimated ? " (estimated from the kerb length)" : "");
    const rules = [p.fee === true ? "paid" : p.fee === false ? "free" : null,
      p.maxstay_s ? `at most ${minutes(p.maxstay_s)}` : null].filter(Boolean).join(", ");
    const guess = p.p_basis === "prior" ? " (a guess from its size: no occupancy data)" : "";
    return `<b>${escapeHtml(p.name)}</b> <span class="muted">street parking</span><br>${spaces}` +
      (rules ? `<br>${escapeHtml(rules)}` : "") +
      `<br><span class="zone-chance">${chanceText(p.p_free)}${guess}</span>`;
  }

  async function drawZones() {
    const t = window.trajet;
    const at = t.whenIso();
    const seq = ++zones.seq;  // date and time change together: only the last answer is drawn
    let fc;
    try { fc = await t.getJSON(API + "/parking/zones" + (at ? "?at=" + encodeURIComponent(at) : "")); }
    catch (e) { return; }
    if (seq !== zones.seq) return;
    if (zones.layer) t.map.removeLayer(zones.layer);
    zones.layer = L.geoJSON(fc, {
      pane: "zones",
      style: (f) => ({ color: colour(f.properties.p_free), weight: 4, opacity: 0.85, lineCap: "butt",
        dashArray: f.properties.p_basis === "prior" ? "8 4" : null,
        className: "street-zone" }),
      onEachFeature: (f, layer) => layer.bindPopup(zonePopup(f.properties)),
    }).addTo(t.map);
  }

  // ---------------------------------------------------------------------------------------
  // The day chart of a popup
  // ---------------------------------------------------------------------------------------
  function hours(iso) { return Number(iso.slice(11, 13)) + Number(iso.slice(14, 16)) / 60; }

  function svg(tag, attrs) {
    const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.entries(attrs).forEach(([k, v]) => el.setAttribute(k, v));
    return el;
  }

  function chart(doc) {
    const W = 260, H = 110, L0 = 28, B = 18, T = 6;
    const counts = doc.points.some((p) => p.free_spaces !== null);
    const value = (p) => (counts ? p.free_spaces : p.p_free);
    const top = counts ? Math.max(1, doc.capacity || 0, ...doc.points.map((p) => p.free_high || 0)) : 1;
    const pts = doc.points.map((p, i) => ({ h: i === doc.points.length - 1 ? 24 : hours(p.time), p }));
    const x = (h) => +(L0 + (h / 24) * (W - L0 - 4)).toFixed(1);
    const y = (v) => +(T + (1 - v / top) * (H - T - B)).toFixed(1);
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "forecast-chart",
      role: "img" });
    if (counts) {
      const upper = pts.filter((q) => q.p.free_high !== null).map((q) => `${x(q.h)},${y(q.p.free_high)}`);
      const lower = pts.filter((q) => q.p.free_low !== null).reverse().map((q) => `${x(q.h)},${y(q.p.free_low)}`);
      root.appendChild(svg("polygon", { points: upper.concat(lower).join(" "), class: "chart-band" }));
    }
    const line = pts.filter((q) => value(q.p) !== null).map((q) => `${x(q.h)},${y(value(q.p))}`);
    root.appendChild(svg("polyline", { points: line.join(" "), class: "chart-line" }));
    [0, 6, 12, 18, 24].forEach((h) => {
      const label = svg("text", { x: x(h), y: H - 4, class: "chart-axis", "text-anchor": "middle" });
      label.textContent = `${h}h`;
      root.appendChild(label);
    });
    const yLabel = svg("text", { x: 2, y: T + 8, class: "chart-axis" });
    yLabel.textContent = counts ? String(Math.round(top)) : "100%";
    root.appendChild(yLabel);
    if (doc.at && doc.at.slice(0, 10) === doc.date) {
      const h = hours(doc.at);
      root.appendChild(svg("line", { x1: x(h), x2: x(h), y1: T, y2: H - B, class: "chart-now" }));
    }
    return root;
  }

  function chartCaption(doc) {
    const day = doc.date;
    if (doc.points.some((p) => p.free_spaces !== null))
      return `Expected free spaces on ${day} (shaded: 8 chances in 10)` +
        (doc.capacity_estimated ? "; capacity estimated" : "");
    if (doc.basis === "prior")
      return `Chance of a space on ${day}: a guess from its size (no occupancy data)`;
    return `No occupancy data for ${day}: no forecast to chart`;
  }

  async function addChart(popup, facilityId) {
    const t = window.trajet;
    // the popup's content becomes an element: Leaflet re-renders a string content on update()
    let content = popup.getContent();
    if (typeof content === "string") {
      const div = document.createElement("div");
      div.innerHTML = content;
      content = div;
    }
    if (!(content instanceof HTMLElement) || content.querySelector(".forecast-box")) return;
    const at = t.whenIso();
    const date = at ? at.slice(0, 10) : new Date().toISOString().slice(0, 10);
    const box = document.createElement("div");
    box.className = "forecast-box small";
    box.textContent = "Loading the day's forecast…";
    content.appendChild(box);
    popup.setContent(content);
    let doc;
    try {
      const q = new URLSearchParams({ facility: facilityId, date });
      if (at) q.set("at", at);
      doc = await t.getJSON(`${API}/parking/forecast?${q}`);
    } catch (e) { box.textContent = "No forecast for this day."; return; }
    box.textContent = "";
    const caption = document.createElement("div");
    caption.className = "muted";
    caption.textContent = chartCaption(doc);
    const counts = doc.points.some((q) => q.free_spaces !== null);
    box.append(caption);
    if (counts || doc.basis === "prior") box.append(chart(doc));  // nothing to chart otherwise
    popup.update();
  }

  // ---------------------------------------------------------------------------------------
  // The search route of a car itinerary
  // ---------------------------------------------------------------------------------------
  function drawRoute(it) {
    const t = window.trajet;
    if (zones.route) { t.map.removeLayer(zones.route); zones.route = null; }
    const park = (it && it.legs || []).find((leg) => leg.parking && leg.parking.search_route);
    if (!park) return;
    const route = park.parking.search_route;
    zones.route = L.layerGroup().addTo(t.map);
    L.geoJSON(route.geometry, { pane: "zones", style: () => ({ color: "#6a3d9a", weight: 4,
      opacity: 0.9, dashArray: "8 6", className: "search-route" }) }).addTo(zones.route);
    route.zones.filter((z) => z.p_reach >= 0.02).forEach((z, i) => {
      const feature = zones.layer && zones.layer.getLayers().find((l) => l.feature.id === z.facility_id);
      const where = feature ? feature.getBounds().getCenter() : null;
      if (!where) return;
      L.marker(where, { icon: L.divIcon({ className: "route-stop", html: String(i + 1),
        iconSize: [20, 20], iconAnchor: [10, 10] }), keyboard: false })
        .bindTooltip(`${i + 1}. ${escapeHtml(z.street || z.name)}: ${chanceText(z.p_space_free)}` +
          ` when you pass at ${z.pass_local}`).addTo(zones.route);
    });
  }

  function start() {
    const t = window.trajet;
    t.map.createPane("zones").style.zIndex = 440;
    drawZones();
    ["date", "time"].forEach((id) => document.getElementById(id).addEventListener("change", drawZones));
    t.map.on("popupopen", (e) => {
      const f = e.popup._source && e.popup._source.feature;
      if (f && f.properties && f.properties.id && !/BIKE/.test(f.properties.kind || ""))
        addChart(e.popup, f.properties.id);
    });
  }

  if (!window.trajet) return;
  window.trajet.on("ready", start);
  window.trajet.on("draw", (it) => drawRoute(it));
})();
