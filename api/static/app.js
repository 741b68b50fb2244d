/* trajet demo page: the map is drawn from the API alone (streets, stops, car parks as GeoJSON),
   no tile server and no CDN. Origin and destination come from map clicks or typed "lat,lon". */
(function () {
  "use strict";

  const API = "/api/v1";
  const state = { info: null, clickTarget: "from", markers: {}, legLayer: null, parkingLayer: null,
                  itineraries: [], selected: 0 };
  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------------------------------
  // Map
  // ---------------------------------------------------------------------------------------
  const map = L.map("map", { zoomControl: true, attributionControl: true, preferCanvas: false });
  map.attributionControl.setPrefix("Leaflet");
  map.attributionControl.addAttribution("© OpenStreetMap contributors");
  map.createPane("streets").style.zIndex = 350;
  const canvas = L.canvas({ padding: 0.3, pane: "streets" });
  map.createPane("stops").style.zIndex = 420;
  map.createPane("legs").style.zIndex = 450;
  map.createPane("parking").style.zIndex = 460;
  state.legLayer = L.layerGroup().addTo(map);

  // a forecast is never sure: no "100 %" or "0 %"; `thing`: "space", "bike", "free dock"
  function chanceText(p, thing = "space") {
    if (p === null || p === undefined) return `chance of a ${thing} unknown`;
    if (p > 0.99) return `almost certainly a ${thing}`;
    if (p < 0.01) return `almost never a ${thing}`;
    return `${Math.round(100 * p)} % chance of a ${thing}`;
  }

  function streetStyle(feature) {
    const p = feature.properties || {};
    if (p.bike_lane) return { color: "#3a9d5d", weight: 2, opacity: 0.8 };
    if (!p.car) return { color: "#b9b4aa", weight: 1, opacity: 0.9, dashArray: "3 3" };
    const major = /^(motorway|trunk|primary|secondary|tertiary)/.test(p.highway || "");
    return { color: major ? "#9a9082" : "#c4bdb2", weight: major ? 2.2 : 1.2, opacity: 0.9 };
  }

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      const err = new Error((body && body.message) || response.statusText);
      err.code = body && body.code; err.field = body && body.field; err.status = response.status;
      throw err;
    }
    return body;
  }

  function badge(route) {
    const span = document.createElement("span");
    span.className = "badge";
    span.textContent = route.short_name || route.id || "?";
    span.style.background = "#" + (route.color || "5b6770");
    span.style.color = "#" + (route.text_color || "ffffff");
    return span;
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;",
      '"': "&quot;", "'": "&#39;" }[c]));
  }

  async function drawBackground() {
    const [streets, stops] = await Promise.all([getJSON(API + "/network"), getJSON(API + "/stops")]);
    L.geoJSON(streets, { style: streetStyle, renderer: canvas, pane: "streets", interactive: false })
      .addTo(map);
    L.geoJSON(stops, {
      pane: "stops",
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 4, color: "#1f4e79", weight: 1.5,
        fillColor: "#ffffff", fillOpacity: 1, pane: "stops" }),
      onEachFeature: (f, layer) => {
        const p = f.properties;
        const routes = (p.routes || []).map((r) => badge(r).outerHTML).join(" ");
        layer.bindTooltip(`<b>${escapeHtml(p.name)}</b><br>${routes}`);
      },
    }).addTo(map);
  }

  function parkingColour(p) {
    const pf = p.p_free;
    if (pf === null || pf === undefined || !p.forecast || p.forecast.basis === "unknown") return "#8c8c8c";
    if (pf >= 0.7) return "#2e9d48";
    if (pf >= 0.3) return "#e69b00";
    return "#d0342c";
  }

  async function drawParking(atIso) {
    const url = API + "/parking" + (atIso ? "?at=" + encodeURIComponent(atIso) : "");
    let fc;
    try { fc = await getJSON(url); } catch (e) { return; }
    if (state.parkingLayer) map.removeLayer(state.parkingLayer);
    state.parkingLayer = L.geoJSON(fc, {
      filter: (f) => !/BIKE/.test(f.properties.kind || "") && !f.properties.street_zone,
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 7, weight: 2, color: "#ffffff",
        fillColor: parkingColour(f.properties), fillOpacity: 0.95, pane: "parking",
        className: "parking-marker" }),
      onEachFeature: (f, layer) => {
        const p = f.properties;
        const kind = { CAR_PARK: "car park", PARK_AND_RIDE: "park and ride", ON_STREET: "street parking" }[p.kind] || "";
        const lines = [`<b>${escapeHtml(p.name || p.id)}</b> <span class="muted">${kind}</span>`,
          `Capacity: ${p.capacity ?? "unknown"}${p.capacity_estimated ? " (estimated)" : ""}`];
        const basis = p.forecast && p.forecast.basis;
        if (p.free_spaces !== null && p.free_spaces !== undefined)
          lines.push(`Forecast: ${Math.round(p.free_spaces)} free, ${chanceText(p.p_free)}` +
            (basis === "live" ? " (live data)" : " (usual occupancy)"));
        else lines.push("Forecast: unknown (no occupancy data)");
        if (p.last_observation)
          lines.push(`Live: ${p.last_observation.free_spaces} free at ${formatTime(p.last_observation.time)}`);
        layer.bindPopup(lines.join("<br>"));
      },
    }).addTo(map);
  }

  // ---------------------------------------------------------------------------------------
  // Origin and destination
  // ---------------------------------------------------------------------------------------
  function parseLatLon(text) {
    const m = /^\s*([-+]?\d+(?:\.\d+)?)\s*,\s*([-+]?\d+(?:\.\d+)?)\s*$/.exec(text || "");
    return m ? L.latLng(parseFloat(m[1]), parseFloat(m[2])) : null;
  }

  function setPoint(which, latlng) {
    $(which).value = `${latlng.lat.toFixed(6)},${latlng.lng.toFixed(6)}`;
    placeMarker(which, latlng);
  }

  function placeMarker(which, latlng) {
    if (state.markers[which]) state.markers[which].setLatLng(latlng);
    else {
      const icon = L.divIcon({ className: `pin pin-${which}`, html: which === "from" ? "A" : "B",
        iconSize: [24, 24], iconAnchor: [12, 12] });
      state.markers[which] = L.marker(latlng, { icon, draggable: true, keyboard: false }).addTo(map);
      state.markers[which].on("dragend", (e) => setPoint(which, e.target.getLatLng()));
    }
  }

  function setClickTarget(which) {
    state.clickTarget = which;
    $("click-target").textContent = which === "from" ? "From" : "To";
  }

  map.on("click", (e) => {
    setPoint(state.clickTarget, e.latlng);
    setClickTarget(state.clickTarget === "from" ? "to" : "from");
  });
  ["from", "to"].forEach((which) => {
    $(which).addEventListener("change", () => {
      const ll = parseLatLon($(which).value);
      if (ll) placeMarker(which, ll);
    });
    $(which).addEventListener("focus", () => setClickTarget(which));
  });
  $("swap").addEventListener("click", () => {
    const a = $("from").value; $("from").value = $("to").value; $("to").value = a;
    ["from", "to"].forEach((w) => { const ll = parseLatLon($(w).value); if (ll) placeMarker(w, ll); });
  });

  // ---------------------------------------------------------------------------------------
  // Date and time: default from the server (now, or the next day the timetable covers)
  // ---------------------------------------------------------------------------------------
  function setDefaultWhen(info) {
    const s = info.suggested_departure;
    if (!s) return;
    $("date").value = s.datetime.slice(0, 10);
    $("time").value = s.datetime.slice(11, 16);
    if (s.note) { $("date-note").textContent = s.note; $("date-note").hidden = false; }
  }

  // the "no service" note holds only while the chosen day has none
  function checkServedDay() {
    const served = (state.info && state.info.served_days) || [];
    if (!served.length || !$("date").value) return;
    const ok = served.includes($("date").value);
    $("date-note").hidden = ok;
    if (!ok) $("date-note").textContent = `The timetable has no service on ${$("date").value}; ` +
      `it runs on days from ${served[0]} to ${served[served.length - 1]}.`;
  }
  $("date").addEventListener("change", checkServedDay);

  // car parks (and the layers of other scripts: bikeshare.js) are drawn for the chosen time
  ["date", "time"].forEach((id) => $(id).addEventListener("change", () => {
    drawParking(whenIso()); hook("when", whenIso());
  }));

  // hooks for the page's other scripts (zones.js, bikeshare.js): "ready" (the page is drawn),
  // "when" (the chosen time changed), "itinerary" (an itinerary's list item was made), "draw"
  // (an itinerary was drawn; null: the itineraries were cleared)
  const hooks = { ready: [], when: [], itinerary: [], draw: [] };
  function hook(name, ...args) {
    hooks[name].forEach((fn) => { try { fn(...args); } catch (e) { console.error(e); } });
  }
  window.trajet = { map, API, getJSON, escapeHtml, whenIso, chanceText, on: (name, fn) => hooks[name].push(fn),
                    legLayer: () => state.legLayer };

  function whenIso() {
    if (!$("date").value || !$("time").value) return null;
    return `${$("date").value}T${$("time").value}:00`;  // local time of the feed's timezone
  }

  // ---------------------------------------------------------------------------------------
  // Planning
  // ---------------------------------------------------------------------------------------
  function formatTime(iso) { return iso ? iso.slice(11, 16) : "?"; }
  function formatDuration(s) {
    const min = Math.round(s / 60);
    return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, "0")}`;
  }
  function formatDistance(m) { return m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`; }

  function showMessage(text, kind) {
    const el = $("message");
    el.textContent = text || "";
    el.className = kind || "";
  }

  const LEG_STYLE = {
    WALK: { color: "#444", weight: 4, dashArray: "2 8", lineCap: "round" },
    BICYCLE: { color: "#2e9d48", weight: 5 },
    CAR: { color: "#6a3d9a", weight: 5 },
  };

  function legStyle(leg) {
    const base = LEG_STYLE[leg.mode] || { color: "#" + ((leg.route && leg.route.color) || "1f78b4"), weight: 6 };
    return { ...base, opacity: 0.9, pane: "legs", className: `leg leg-${String(leg.mode).toLowerCase()}` };
  }

  function drawItinerary(index) {
    state.selected = index;
    state.legLayer.clearLayers();
    const it = state.itineraries[index];
    if (!it) return;
    const bounds = L.latLngBounds([]);
    (it.legs || []).forEach((leg) => {
      if (!leg.geometry) return;
      const layer = L.geoJSON(leg.geometry, { style: () => legStyle(leg) });
      layer.addTo(state.legLayer);
      bounds.extend(layer.getBounds());
    });
    document.querySelectorAll("#itineraries li").forEach((li, i) => li.classList.toggle("selected", i === index));
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.2), { maxZoom: 17 });
    hook("draw", it, state.legLayer);
    drawVehicles(it, index);
  }

  // real time: per transit leg the scheduled time struck through beside the predicted one, the
  // delay in colour, "vehicle 2 stops away"; the alerts' texts once each; reliability; notices
  function delayClass(s) { return s >= 300 ? "delay-late" : s >= 60 ? "delay-slight" : s <= -60 ? "delay-early" : "delay-none"; }

  function renderRealtime(li, it) {
    const seen = new Set();
    (it.legs || []).forEach((leg) => {
      if (leg.realtime === undefined) return;
      const row = document.createElement("div");
      row.className = "rt-leg small";
      const name = leg.route ? (leg.route.short_name || leg.route.long_name || leg.mode) : leg.mode;
      row.append(`${name}: `);
      if (leg.realtime && leg.scheduled_start_time !== leg.start_time) {
        const old = document.createElement("s");
        old.className = "scheduled";
        old.textContent = formatTime(leg.scheduled_start_time);
        row.append(old, " ");
      }
      const now = document.createElement("b");
      now.className = `rt-time ${leg.realtime ? delayClass(leg.departure_delay_s) : ""}`;
      now.textContent = formatTime(leg.start_time);
      row.append(now, ` → ${formatTime(leg.end_time)}`);
      if (leg.realtime) {
        const d = document.createElement("span");
        d.className = `delay ${delayClass(leg.delay_s)}`;
        const min = Math.round(Math.abs(leg.delay_s) / 60);
        d.textContent = Math.abs(leg.delay_s) < 30 ? " on time" : leg.delay_s > 0 ? ` +${min} min` : ` ${min} min early`;
        row.appendChild(d);
      } else row.append(" (timetable)");
      if (leg.vehicle_stops_away !== undefined && leg.vehicle_stops_away !== null)
        row.append(` · vehicle ${leg.vehicle_stops_away} stop${leg.vehicle_stops_away === 1 ? "" : "s"} away`);
      li.appendChild(row);
      (leg.alerts || []).forEach((a) => {
        if (seen.has(a.id)) return;
        seen.add(a.id);
        const n = document.createElement("div");
        n.className = "alert small";
        n.textContent = `⚠ ${a.header_text || a.effect}`;
        if (a.url) {
          const link = document.createElement("a");
          link.href = a.url; link.target = "_blank"; link.rel = "noopener"; link.textContent = " more";
          n.appendChild(link);
        }
        li.appendChild(n);
      });
    });
    if (it.reliability) {
      const r = document.createElement("div");
      r.className = `reliability small ${it.reliability === "robust" ? "robust" : "tight"}`;
      r.textContent = it.reliability;
      li.appendChild(r);
    }
    (it.notices || []).forEach((notice) => {
      const n = document.createElement("div");
      n.className = "notice small";
      n.textContent = notice.message;
      li.appendChild(n);
    });
  }

  async function drawVehicles(it, index) {
    const routes = new Set((it.legs || []).filter((l) => l.route && l.realtime !== undefined).map((l) => l.route.route_id));
    for (const route of routes) {
      let doc;
      try { doc = await getJSON(`${API}/vehicles?route=${encodeURIComponent(route)}`); } catch (e) { continue; }
      if (state.selected !== index) return;
      (doc.vehicles || []).forEach((v) => {
        L.circleMarker([v.lat, v.lon], { radius: 7, color: "#fff", weight: 2, fillColor: "#111", fillOpacity: 0.9,
          pane: "legs", className: "vehicle-marker" }).bindTooltip(`${v.label || v.id}${v.status ? " · " + v.status.toLowerCase().replace(/_/g, " ") : ""}`)
          .addTo(state.legLayer);
      });
    }
  }

  function legLabel(leg) {
    const span = document.createElement("span");
    span.className = "leg-chip";
    if (leg.route) span.appendChild(badge(leg.route));
    else {
      const names = { WALK: "Walk", BICYCLE: "Bike", CAR: "Car", PARK: "Park" };
      span.textContent = names[leg.mode] || leg.mode;
    }
    if (leg.distance_m && !leg.route) span.append(` ${formatDistance(leg.distance_m)}`);
    return span;
  }

  function renderItineraries(plan) {
    const list = $("itineraries");
    list.innerHTML = "";
    state.itineraries = plan.itineraries || [];
    state.itineraries.forEach((it, i) => {
      const li = document.createElement("li");
      li.className = "itinerary";
      li.tabIndex = 0;
      const head = document.createElement("div");
      head.className = "it-head";
      head.innerHTML = `<b>${formatTime(it.start_time)} → ${formatTime(it.end_time)}</b>
        <span>${formatDuration(it.duration_s)}</span>`;
      li.appendChild(head);
      if ((it.labels || []).length) {
        const tags = document.createElement("div");
        tags.className = "it-labels small";
        it.labels.forEach((label) => {
          const tag = document.createElement("span");
          tag.className = "label";
          tag.textContent = label;
          tags.appendChild(tag);
        });
        li.appendChild(tags);
      }
      const legs = document.createElement("div");
      legs.className = "it-legs";
      (it.legs || []).forEach((leg, k) => {
        if (k) legs.append(" › ");
        legs.appendChild(legLabel(leg));
      });
      li.appendChild(legs);
      const facts = [];
      if (it.transfers !== undefined) facts.push(`${it.transfers} transfer${it.transfers === 1 ? "" : "s"}`);
      if (it.walk_distance_m !== undefined) facts.push(`walk ${formatDistance(it.walk_distance_m)}`);
      const detail = document.createElement("div");
      detail.className = "muted small";
      detail.textContent = facts.join(" · ");
      li.appendChild(detail);
      renderRealtime(li, it);
      hook("itinerary", li, it);
      (it.legs || []).forEach((leg) => {
        const pk = leg.parking || leg.facility;
        if (!pk) return;
        const p = document.createElement("div");
        p.className = "parking-note small";
        const pf = pk.p_space_free ?? pk.p_free;
        const route = pk.search_route;
        p.textContent = route ? `${route.advice} About ${Math.max(1, Math.round(route.expected_search_s / 60))} ` +
          "min to find a space, then a walk." :
          `Park at ${pk.name || pk.id}` + (pf !== undefined && pf !== null ? `: ${chanceText(pf)}` : "") +
          (pk.expected_search_s ? `, ~${Math.round(pk.expected_search_s / 60)} min to find one` : "");
        li.appendChild(p);
        (pk.avoided || []).forEach((a) => {
          const n = document.createElement("div");
          n.className = "avoided small";
          n.textContent = `Avoided ${a.name || a.id}: ${a.reason || "usually full at that time"}`;
          li.appendChild(n);
        });
      });
      (it.notes || []).forEach((note) => {
        const n = document.createElement("div");
        n.className = "avoided small";
        n.textContent = typeof note === "string" ? note : (note.message || JSON.stringify(note));
        li.appendChild(n);
      });
      li.addEventListener("click", () => drawItinerary(i));
      li.addEventListener("keydown", (e) => { if (e.key === "Enter") drawItinerary(i); });
      list.appendChild(li);
    });
    // why a mode asked for has no itinerary (dominated by another, no car park with room...)
    Object.entries(plan.left_out || {}).forEach(([mode, why]) => {
      const li = document.createElement("li");
      li.className = "left-out small muted";
      li.textContent = leftOutText(mode, why, plan);
      (why.avoided || []).forEach((a) => {
        const n = document.createElement("div");
        n.className = "avoided small";
        n.textContent = `Avoided ${a.name || a.id}: ${a.reason || "usually full at that time"}`;
        li.appendChild(n);
      });
      list.appendChild(li);
    });
    if (state.itineraries.length) drawItinerary(0);
    else {
      state.legLayer.clearLayers();
      hook("draw", null, state.legLayer);
    }
  }

  // why a mode has no itinerary, in plain words (no "dominated", no mode codes)
  const MODE_WORDS = { WALK: "Walking", TRANSIT: "Public transport", BICYCLE: "Cycling",
    CAR_PARK: "Driving and parking", PARK_AND_RIDE: "Park and ride", BIKE_AND_RIDE: "Bike and ride",
    BIKE_SHARE: "Bike share" };
  function modeWords(code) { return MODE_WORDS[code] || String(code).replace(/_/g, " ").toLowerCase(); }
  function leftOutText(mode, why, plan) {
    const label = modeWords(mode);
    if (why.code === "DOMINATED") {
      const m = /dominated by the (\w+) one/.exec(why.message || "");
      const other = m ? modeWords(m[1]).toLowerCase() : "another option";
      return `${label} is not shown: ${other} gets you there as soon or sooner, with no more ` +
        "changes, no more walking or cycling and no more risk of finding no parking space.";
    }
    if (why.code === "NOT_SELECTED")
      return `${label} is also a good option, but only ${(plan.itineraries || []).length} trips were asked for.`;
    return `${label} is not shown: ${(why.message || why.code).replace(/\b[A-Z]+(?:_[A-Z]+)+\b/g, modeWords)}`;
  }

  async function plan(event) {
    if (event) event.preventDefault();
    const from = $("from").value.trim(), to = $("to").value.trim();
    if (!from || !to) { showMessage("Set an origin and a destination (click the map or type lat,lon).", "error"); return; }
    const modes = [...document.querySelectorAll('input[name="mode"]:checked')].map((el) => el.value);
    if (!modes.length) { showMessage("Pick at least one mode.", "error"); return; }
    const params = new URLSearchParams({ from, to, modes: modes.join(","), num_itineraries: "3" });
    const when = whenIso();
    if (when) params.set("datetime", when);
    if (document.querySelector('input[name="when-kind"]:checked').value === "arrive") params.set("arrive_by", "true");
    showMessage("Planning…", "busy");
    $("plan-button").disabled = true;
    try {
      const result = await getJSON(API + "/plan?" + params.toString());
      renderItineraries(result);
      const notes = (result.notes || []).join(" ");
      if (!result.itineraries.length)
        showMessage(`No itinerary: ${result.message || result.code || "no route found"}. ${notes}`, "error");
      else showMessage(`${result.itineraries.length} itinerar${result.itineraries.length === 1 ? "y" : "ies"}. ${notes}`, "ok");
      drawParking(result.request && result.request.when);
      hook("when", result.request && result.request.when);
    } catch (err) {
      renderItineraries({ itineraries: [] });
      showMessage(`${err.code ? err.code + ": " : ""}${err.message}`, "error");
    } finally {
      $("plan-button").disabled = false;
    }
  }
  $("plan-form").addEventListener("submit", plan);

  // ---------------------------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------------------------
  async function start() {
    for (let attempt = 0; attempt < 60; attempt++) {
      try {
        state.info = await getJSON(API + "/info");
        break;
      } catch (err) {
        if (err.code !== "NOT_READY") { showMessage(`${err.code || "ERROR"}: ${err.message}`, "error"); return; }
        showMessage("The network is loading…", "busy");
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    if (!state.info) return;
    showMessage("");
    const b = state.info.bbox;
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    $("network-info").textContent = state.info.service_period ?
      `timetable ${state.info.service_period.start} → ${state.info.service_period.end}` : "";
    setDefaultWhen(state.info);
    await drawBackground();
    await drawParking(whenIso());
    hook("ready");
    hook("when", whenIso());
    document.body.dataset.ready = "true";
  }
  start();
})();
