// Signature test vectors made by the real Java client code (RocketMQ 5.5.0's
// AclClientRPCHook); protocol/src/acl.rs's tests hold the printed values.
// Run: jshell --class-path "$(echo /work/main/.cache/peers/lib5/*.jar | tr ' ' :)" tools/acl-vectors.jsh
import org.apache.rocketmq.acl.common.*;
import org.apache.rocketmq.remoting.protocol.RemotingCommand;
import org.apache.rocketmq.remoting.protocol.header.namesrv.GetRouteInfoRequestHeader;
import java.nio.charset.StandardCharsets;

void show(String name, RemotingCommand cmd, String ak, String sk, String token, byte[] body) {
    cmd.setBody(body);
    SessionCredentials c = token == null ? new SessionCredentials(ak, sk) : new SessionCredentials(ak, sk, token);
    new AclClientRPCHook(c).doBeforeRequest(null, cmd);
    System.out.println(name + " ext=" + new java.util.TreeMap<>(cmd.getExtFields()) + " Signature=" + cmd.getExtFields().get("Signature"));
}

RemotingCommand plain(String... kv) {
    RemotingCommand cmd = RemotingCommand.createRequestCommand(105, null);
    for (int i = 0; i < kv.length; i += 2) cmd.addExtField(kv[i], kv[i + 1]);
    return cmd;
}

GetRouteInfoRequestHeader h = new GetRouteInfoRequestHeader();
h.setTopic("TopicTest");
show("header_no_body", RemotingCommand.createRequestCommand(105, h), "rocketmq2", "12345678", null, null);
show("ext_body", plain("brokerName", "broker-a", "clusterName", "DefaultCluster"), "RocketMQ", "12345678", null, "hello body".getBytes(StandardCharsets.UTF_8));
show("empty_body", plain("topic", "T"), "RocketMQ", "12345678", null, new byte[0]);
show("utf16_order", plain("\uFF61", "halfwidth", "\uD83D\uDE00", "emoji", "z", "zed"), "RocketMQ", "12345678", null, null);
show("unicode_values", plain("topic", "t\u00e9st-\u4e2d\u6587-\uD83D\uDE00", "key", "\u00fc"), "admin\u00e4key", "s\u00e9cret-\u4e2d", null, new byte[] {0, 1, 2, (byte) 0xff});
show("security_token", plain("topic", "T"), "RocketMQ", "12345678", "token-xyz", "b".getBytes(StandardCharsets.UTF_8));
/exit
