package compat;

import java.util.Map;

/** Minimal JSON writer (no third-party types, so output does not depend on fastjson version). */
final class Json {
    private Json() {
    }

    static String str(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        return b.append('"').toString();
    }

    /** Object with string keys in the map's iteration order; values already encoded. */
    static String obj(Map<String, String> encoded) {
        StringBuilder b = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, String> e : encoded.entrySet()) {
            if (!first) {
                b.append(',');
            }
            first = false;
            b.append(str(e.getKey())).append(':').append(e.getValue());
        }
        return b.append('}').toString();
    }

    static String arr(Iterable<String> encoded) {
        StringBuilder b = new StringBuilder("[");
        boolean first = true;
        for (String v : encoded) {
            if (!first) {
                b.append(',');
            }
            first = false;
            b.append(v);
        }
        return b.append(']').toString();
    }
}
