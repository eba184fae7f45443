# Copyright streamml authors. Licensed under the Apache License 2.0.
"""streamml.torch: KafkaIterableDataset, a torch.utils.data.IterableDataset over
streamml.KafkaDataset.

    ds = KafkaIterableDataset(["train"], servers=B, decoder="csv:features=4,label=last", batch_size=64)
    for x, y in DataLoader(ds, batch_size=None, num_workers=2):
        ...  # x float32 [n, 4], y float32 [n, 1]: torch.from_numpy of the C++ batch, no copy
"""
import torch
import torch.utils.data

import streamml


class KafkaIterableDataset(torch.utils.data.IterableDataset):
    """Yields one (features, labels) pair of torch.Tensors per batch; use it with
    DataLoader(ds, batch_size=None). Takes the options of streamml.KafkaDataset.

    Bounded ranges are resolved once, when the dataset is made (-1 becomes the high
    watermark then). With DataLoader(num_workers=N), worker i reads the partitions at
    positions i, i+N, ... of the resolved (topic, partition) list: every record once.
    For a consumer group, each worker is a member of the group; the offsets of the
    batches returned so far are committed each time the next batch is asked for
    (commit_on_next=True, the default) and at the end of the stream.

    Each iteration is an epoch; iterate again for the next one.
    """

    def __init__(self, ranges=None, *, group=None, topics=None, servers=None, config=None, with_meta=False,
                 commit_on_next=True, **options):
        super().__init__()
        if isinstance(ranges, str):
            ranges = [ranges]
        self.group = group
        self.topics = topics
        self.servers = servers
        self.config = dict(config or {})
        self.options = options
        self.with_meta = with_meta
        self.commit_on_next = commit_on_next
        self.ranges = None
        if ranges:
            if group:
                raise streamml.ConfigError("KafkaIterableDataset needs ranges=[...] or group=..., not both")
            # [(topic, partition, start, end_exclusive)], fixed for every worker and epoch.
            self.ranges = [r for r in streamml.resolve_ranges(ranges, servers, self.config)]
        elif not group:
            raise streamml.ConfigError("KafkaIterableDataset needs ranges=[...] or group=... with topics=[...]")

    def _share(self):
        """This worker's range specs (all of them outside a DataLoader worker)."""
        info = torch.utils.data.get_worker_info()
        partitions = []
        for topic, partition, _, _ in self.ranges:
            if (topic, partition) not in partitions:
                partitions.append((topic, partition))
        mine = set(partitions) if info is None else set(partitions[info.id::info.num_workers])
        return ["%s:%d:%d:%d" % (t, p, s, e - 1) for t, p, s, e in self.ranges if (t, p) in mine and e > s]

    def _dataset(self):
        if self.ranges is not None:
            ranges = self._share()
            if not ranges:
                return None
            return streamml.KafkaDataset(ranges, servers=self.servers, config=self.config, **self.options)
        return streamml.KafkaDataset(group=self.group, topics=self.topics, servers=self.servers,
                                     config=self.config, **self.options)

    def __iter__(self):
        ds = self._dataset()
        if ds is None:
            return
        try:
            group = ds.is_group
            while True:
                batch = ds.next()
                if batch is None:
                    break
                x = torch.from_numpy(batch.features)
                y = torch.from_numpy(batch.labels)
                if self.with_meta:
                    yield x, y, batch.meta
                else:
                    yield x, y
                if group and self.commit_on_next:
                    ds.commit()
            if group:
                ds.commit()
        finally:
            ds.close()
