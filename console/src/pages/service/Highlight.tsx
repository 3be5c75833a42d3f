import { highlightSegments } from "./logic";

/** The server's highlight (escaped text, hits in <em>) shown as text with marked hits: no HTML injected. */
export default function Highlight({ html }: { html: string }) {
  return (
    <>
      {highlightSegments(html).map((s, i) =>
        s.hit ? (
          <mark key={i} style={{ padding: 0, background: "#ffe58f" }}>
            {s.text}
          </mark>
        ) : (
          <span key={i}>{s.text}</span>
        ),
      )}
    </>
  );
}
