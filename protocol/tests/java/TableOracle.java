import java.io.*;
import java.util.*;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs a script of table operations on the real JDK collections and prints every
 * requested iteration order, one line each (keys separated by spaces). A key
 * written "#n" is a Long, any other a String.
 *
 *   new ID HM | HMW n | CHM | CHMW n | KS | HS     a map (or set) by constructor
 *   put ID KEY / del ID KEY                         put (value = key) / remove
 *   dump ID                                         print ID's iteration order
 *   copy ID HMCOPY | HSCOPY | PUTALL | KSADD | CHMWADD n
 *        prints the order of a fresh copy of ID: new HashMap<>(m), new HashSet<>(keys),
 *        new HashMap<>().putAll(m), newKeySet().addAll(keys), new CHM<>(n) put in order
 *   clone ID NEW                                    NEW = new HashMap<>(ID) (a set: its keys
 *                                                   in iteration order), for further puts
 */
public class TableOracle {
    static Object key(String s) {
        return s.startsWith("#") ? (Object) Long.valueOf(s.substring(1)) : s;
    }

    static String show(Object k) {
        return k instanceof Long ? "#" + k : (String) k;
    }

    static String line(Iterable<?> keys) {
        StringBuilder b = new StringBuilder();
        for (Object k : keys) {
            if (b.length() > 0) b.append(' ');
            b.append(show(k));
        }
        return b.toString();
    }

    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        PrintStream out = new PrintStream(new BufferedOutputStream(System.out), false, "UTF-8");
        Map<String, Map<Object, Object>> maps = new HashMap<>();
        Map<String, Set<Object>> sets = new HashMap<>();
        String l;
        while ((l = in.readLine()) != null) {
            String[] a = l.split(" ");
            switch (a[0]) {
                case "new":
                    switch (a[2]) {
                        case "HM": maps.put(a[1], new HashMap<>()); break;
                        case "HMW": maps.put(a[1], new HashMap<>(Integer.parseInt(a[3]))); break;
                        case "CHM": maps.put(a[1], new ConcurrentHashMap<>()); break;
                        case "CHMW": maps.put(a[1], new ConcurrentHashMap<>(Integer.parseInt(a[3]))); break;
                        case "KS": sets.put(a[1], ConcurrentHashMap.newKeySet()); break;
                        case "HS": sets.put(a[1], new HashSet<>()); break;
                        default: throw new IllegalArgumentException(l);
                    }
                    break;
                case "put":
                    if (maps.containsKey(a[1])) maps.get(a[1]).put(key(a[2]), a[2]);
                    else sets.get(a[1]).add(key(a[2]));
                    break;
                case "del":
                    if (maps.containsKey(a[1])) maps.get(a[1]).remove(key(a[2]));
                    else sets.get(a[1]).remove(key(a[2]));
                    break;
                case "dump":
                    out.println(line(maps.containsKey(a[1]) ? maps.get(a[1]).keySet() : sets.get(a[1])));
                    break;
                case "clone": {
                    Map<Object, Object> m = maps.get(a[1]);
                    if (m == null) {
                        m = new LinkedHashMap<>();
                        for (Object k : sets.get(a[1])) m.put(k, k);
                    }
                    maps.put(a[2], new HashMap<>(m));
                    break;
                }
                case "copy": {
                    Map<Object, Object> m = maps.get(a[1]);
                    Collection<Object> keys = m != null ? m.keySet() : sets.get(a[1]);
                    if (m == null) {
                        m = new LinkedHashMap<>();
                        for (Object k : keys) m.put(k, k);
                    }
                    switch (a[2]) {
                        case "HMCOPY": out.println(line(new HashMap<>(m).keySet())); break;
                        case "HSCOPY": out.println(line(new HashSet<>(keys))); break;
                        case "PUTALL": {
                            Map<Object, Object> c = new HashMap<>();
                            c.putAll(m);
                            out.println(line(c.keySet()));
                            break;
                        }
                        case "KSADD": {
                            Set<Object> s = ConcurrentHashMap.newKeySet();
                            s.addAll(keys);
                            out.println(line(s));
                            break;
                        }
                        case "CHMWADD": {
                            Map<Object, Object> c = new ConcurrentHashMap<>(Integer.parseInt(a[3]));
                            for (Object k : keys) c.put(k, k);
                            out.println(line(c.keySet()));
                            break;
                        }
                        default: throw new IllegalArgumentException(l);
                    }
                    break;
                }
                default: throw new IllegalArgumentException(l);
            }
        }
        out.flush();
    }
}
