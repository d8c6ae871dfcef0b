// Times are stored and written in UTC; this shows each <time datetime="...Z"> in the reader's
// own time zone (the UTC time stays in the tooltip). Without scripts the UTC text remains.
(function () {
  const dateAndTime = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "short"});
  const timeOnly = new Intl.DateTimeFormat(undefined, {timeStyle: "short"});
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    const when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) return;
    el.title = el.textContent;
    el.textContent = (el.dataset.show === "time" ? timeOnly : dateAndTime).format(when);
  });
})();
