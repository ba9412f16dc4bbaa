// 适老化: the large-text, high-contrast mode (MIIT guidance for public-service apps).
// A classic script in <head> (templates/web/base.html), so the class is on <html> before
// the first paint. CONTRACT shared by /m/ and /scan/: the choice is localStorage
// "xinyou.largeText" = "1"; the mode is the class "large-text" on <html>; large-text.css
// styles it. common.js largeText() / setLargeText(on) read and change it.
try {
  if (localStorage.getItem("xinyou.largeText") === "1") document.documentElement.classList.add("large-text");
} catch {
  /* no storage (private mode): the normal size */
}
