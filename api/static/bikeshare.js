/* trajet demo page, bike share: stations with their bikes and docks now and the forecast at the
   chosen time (GET /api/v1/bikeshare/stations), free-floating bikes, and the BIKE_SHARE legs
   (pick-up, ride, drop-off) drawn and explained. Hooks into app.js through window.trajet. */
(function () {
  "use strict";

  const T = window.trajet;
  if (!T) return;
  const map = T.map;
  map.createPane("bikeshare").style.zIndex = 455;
  let layer = null;

  const chance = (p, thing) => T.chanceText(p, thing);
  const count = (n) => (n === null || n === undefined ? "?" : String(Math.round(n)));

  function stationClass(p) {
    if (!p.renting && !p.returning) return "bs-closed";
    const pb = p.p_bike;
    if (pb === null || pb === undefined || p.bikes_basis === "unknown") return "bs-unknown";
    if (pb >= 0.7) return "bs-good";
    if (pb >= 0.3) return "bs-mid";
    return "bs-bad";
  }

  function basisText(basis) {
    return { live: "live reading", profile: "usual pattern", decaying_reading:
      "latest reading, fading (little history)", unknown: "unknown" }[basis] || basis;
  }

  function stationPopup(p) {
    const lines = [`<b>${T.escapeHtml(p.name || p.id)}</b> <span class="muted">bike share</span>`,
      `Now: ${count(p.bikes_now)} bikes · ${count(p.docks_now)} free docks` +
        (p.capacity ? ` (capacity ${p.capacity})` : "")];
    if (!p.renting) lines.push("Not renting bikes now");
    if (!p.returning) lines.push("Not taking bikes back now");
    lines.push(`At the chosen time: ${chance(p.p_bike, "bike")} (≈ ${count(p.expected_bikes)}), ` +
      `${chance(p.p_dock, "free dock")} (≈ ${count(p.expected_docks)})`);
    lines.push(`<span class="muted small">bikes: ${basisText(p.bikes_basis)}; docks: ${basisText(p.docks_basis)}</span>`);
    return lines.join("<br>");
  }

  function marker(f, latlng) {
    const p = f.properties;
    if (p.kind === "FREE_BIKE") {
      return L.circleMarker(latlng, { radius: 4, color: "#fff", weight: 1, fillColor: "#c2185b",
        fillOpacity: 0.9, pane: "bikeshare", className: "free-bike" })
        .bindTooltip(`${T.escapeHtml(p.name)}: ${chance(p.p_bike, "bike still there")}`);
    }
    const html = `<span class="bs-bikes">${count(p.bikes_now ?? p.expected_bikes)}</span>` +
      `<span class="bs-docks">${count(p.docks_now ?? p.expected_docks)}</span>`;
    const icon = L.divIcon({ className: `bikeshare-station ${stationClass(p)}`, html, iconSize: [34, 18],
      iconAnchor: [17, 9] });
    return L.marker(latlng, { icon, pane: "bikeshare", keyboard: false, title: p.name })
      .bindPopup(stationPopup(p));
  }

  async function drawStations(atIso) {
    const url = T.API + "/bikeshare/stations" + (atIso ? "?at=" + encodeURIComponent(atIso) : "");
    let fc;
    try { fc = await T.getJSON(url); } catch (e) { return; }
    if (layer) map.removeLayer(layer);
    layer = L.geoJSON(fc, { pointToLayer: marker }).addTo(map);
    document.body.dataset.bikeshare = String(fc.features.length);
  }

  function bikeShareInfo(it) {
    return (it.legs || []).map((leg) => leg.bike_share).filter(Boolean);
  }

  // the itinerary list: where to take a bike and where to leave it, with the chances and why
  T.on("itinerary", (li, it) => {
    bikeShareInfo(it).forEach((info) => {
      const note = document.createElement("div");
      note.className = "bikeshare-note small";
      note.textContent = `Take a ${info.vehicle_type.name} at ${info.pickup.name} (${chance(info.p_bike, "bike")}` +
        `), leave it at ${info.dropoff.name} (${chance(info.p_dock, "free dock")})`;
      li.appendChild(note);
      [...info.pickup.avoided, ...info.dropoff.avoided].forEach((a) => {
        const n = document.createElement("div");
        n.className = "avoided small";
        n.textContent = a.reason;
        li.appendChild(n);
      });
    });
  });

  // the map: the ride in the bike-share colour over the bicycle leg, and the two stations
  T.on("draw", (it, legLayer) => {
    if (!it) return;
    (it.legs || []).forEach((leg) => {
      const info = leg.bike_share;
      if (!info || !leg.geometry) return;
      L.geoJSON(leg.geometry, { style: () => ({ color: "#c2185b", weight: 6, opacity: 0.95, pane: "legs",
        className: "leg leg-bike-share" }) }).addTo(legLayer);
      [[leg.from, info.pickup, "Pick up"], [leg.to, info.dropoff, "Drop off"]].forEach(([place, end, what]) => {
        const odds = end.p_bike !== undefined ? chance(end.p_bike, "bike") : chance(end.p_dock, "free dock");
        L.circleMarker([place.lat, place.lon], { radius: 8, color: "#c2185b", weight: 3, fillColor: "#fff",
          fillOpacity: 1, pane: "legs", className: "bike-share-end" })
          .bindTooltip(`${what}: ${T.escapeHtml(end.name)}, ${odds}`).addTo(legLayer);
      });
    });
  });

  T.on("when", drawStations);
  if (document.body.dataset.ready === "true") drawStations(T.whenIso());
})();
