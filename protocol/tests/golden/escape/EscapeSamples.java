import java.util.ArrayList;
import java.util.List;

/** The strings the escape goldens are made of: one per code point that matters. */
final class EscapeSamples {
    private EscapeSamples() {}

    /** Code points: all of U+0000..U+00FF, then the ones JS and BOM rules single out. */
    static List<Integer> codePoints() {
        List<Integer> cps = new ArrayList<>();
        for (int cp = 0; cp <= 0xFF; cp++) cps.add(cp);
        for (int cp : new int[] {0x0100, 0x07FF, 0x0800, 0x2028, 0x2029, 0x20AC, 0xD7FF,
                0xE000, 0xFEFF, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF}) {
            cps.add(cp);
        }
        return cps;
    }

    /** The sample for `cp`: the char between two plain letters, so both neighbours show. */
    static String sample(int cp) {
        return "a" + new String(Character.toChars(cp)) + "b";
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) sb.append(String.format("%02x", x & 0xFF));
        return sb.toString();
    }
}
