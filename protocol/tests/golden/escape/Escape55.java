import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;

import com.alibaba.fastjson2.JSON;
import com.alibaba.fastjson2.JSONWriter.Feature;
import org.apache.rocketmq.remoting.protocol.RemotingCommand;
import org.apache.rocketmq.remoting.protocol.RemotingSerializable;
import org.apache.rocketmq.remoting.protocol.body.KVTable;
import org.apache.rocketmq.remoting.protocol.body.TopicList;

/**
 * RocketMQ 5.5.0 (fastjson2): how each encoder writes each sample. Lines are
 * `<cp hex> <kind> <output hex>`; kinds: legacy/standard bodies of TopicList
 * (String field + Set element) and KVTable (map key + value), and the JSON header.
 */
public class Escape55 {
    public static void main(String[] args) {
        for (int cp : EscapeSamples.codePoints()) {
            String s = EscapeSamples.sample(cp);
            TopicList tl = new TopicList();
            tl.setBrokerAddr(s);
            tl.setTopicList(new HashSet<>(Collections.singleton(s)));
            KVTable kv = new KVTable();
            HashMap<String, String> t = new HashMap<>();
            t.put(s, s);
            kv.setTable(t);
            String id = Integer.toHexString(cp);
            // RemotingSerializable#encode() and #encode(features) as 5.5.0 calls them
            // (ClientRequestProcessor#getRouteInfoByTopic for the standard dialect).
            line(id, "topiclist.legacy", tl.encode());
            line(id, "topiclist.standard", tl.encode(Feature.BrowserCompatible, Feature.MapSortField));
            line(id, "kv.legacy", kv.encode());
            line(id, "kv.standard", kv.encode(Feature.BrowserCompatible, Feature.MapSortField));
            // RemotingCommand#fastEncodeHeader: RemotingSerializable.encode(this).
            RemotingCommand cmd = RemotingCommand.createResponseCommand(17, s);
            cmd.setOpaque(5);
            cmd.setVersion(479);
            HashMap<String, String> ext = new HashMap<>();
            ext.put(s, s);
            cmd.setExtFields(ext);
            cmd.markResponseType();
            line(id, "header", RemotingSerializable.encode(cmd));
        }
    }

    static void line(String id, String kind, byte[] out) {
        System.out.println(id + " " + kind + " " + EscapeSamples.hex(out));
    }
}
